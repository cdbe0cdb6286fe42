"""REST bodies: strict JSON on every JSON route, and a size cap enforced before parsing."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import Request
from pydantic import BaseModel

from interlock.bodies import body_limit, body_types
from tests.support.process import ServerProcess
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry

MiB = 1024 * 1024
OCTETS = "application/octet-stream"
RAW = {"content-type": OCTETS}

NOT_STRICT = [
    b'{"task_type": "chatty", "parameters": {"pause": NaN}}',
    b'{"task_type": "chatty", "parameters": {"pause": Infinity}}',
    b'{"task_type": "chatty", "parameters": {"pause": -Infinity}}',
    b'{"task_type": "chatty\\ud800", "parameters": {}}',
    b'{"value": true, "values": {"\\udfff": 1}}',
    b'{"task_type": "chatty", "parameters": {"a": ' + b"[" * 65 + b"]" * 65 + b"}}",
    b'{"task_type": "chatty", "parameters": {"a": ' + b"[" * 5000 + b"]" * 5000 + b"}}",
    b'{"task_type": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes
]


class Doc(BaseModel):
    text: str


def json_routes(server: LiveServer) -> list[tuple[str, str]]:
    """(method, path) of every operation that takes a JSON body, path parameters filled in.

    Read from the OpenAPI document: FastAPI versions differ in how ``app.routes`` nests the
    routes of included routers, the schema lists them all alike."""
    out = []
    for path, operations in server.app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                out.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    return out


async def test_every_json_route_answers_non_strict_json_with_422(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    routes = json_routes(server)
    assert ("POST", "/tasks") in routes and ("POST", "/tasks/x/answer") in routes
    for method, path in routes:
        for body in NOT_STRICT:
            r = await client.request(
                method, path, content=body, headers={"content-type": "application/json"}
            )
            assert r.status_code == 422, (method, path, body[:60], r.text)
            assert r.json()["detail"][0]["type"] == "json_invalid", r.text
        # A body must say it is JSON: without a content type it is not parsed at all.
        r = await client.request(method, path, content=NOT_STRICT[0])
        assert r.status_code == 415, (method, path, r.text)


async def test_every_json_route_refuses_an_oversize_body_with_413(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    big = b'{"task_type": "' + b"x" * (server.settings.max_body_bytes + 1) + b'"}'
    for method, path in json_routes(server):
        r = await client.request(
            method, path, content=big, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413, (method, path, r.text)
        assert "limit is 1048576 bytes" in r.json()["detail"]


async def test_strict_json_still_accepts_what_json_allows(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    r = await client.post(
        "/tasks",
        content=b'{"task_type": "ask_once", "parameters": {"timeout": 1e3}, "queue": false}',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 202, r.text
    sid = r.json()["task_id"]
    r = await client.post(
        f"/tasks/{sid}/answer",
        content=b'{"request_id": "r1", "values": '
        b'{"name": "caf\\u00e9 \\ud83d\\ude00", "count": 2}}',
        headers={"content-type": "application/json"},
    )
    # The answer may arrive before the prompt is open; either way it is not a body error.
    assert r.status_code in {200, 409}, r.text
    assert (await client.post("/start-task")).status_code in {200, 409}


async def test_a_route_can_have_its_own_cap(tmp_path: Path) -> None:
    @body_limit(4 * MiB)
    @body_types(OCTETS)
    async def upload(request: Request) -> dict[str, Any]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"size": size}

    @body_limit(100)
    async def tiny(doc: Doc) -> dict[str, Any]:
        return {"size": len(doc.text)}

    with run_server(tmp_path / "d", registry=make_registry()) as server:
        server.app.add_api_route("/test/upload", upload, methods=["POST"])
        server.app.add_api_route("/test/tiny", tiny, methods=["POST"])
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.post("/test/upload", content=b"x" * (3 * MiB), headers=RAW)
            assert r.status_code == 200 and r.json() == {"size": 3 * MiB}

            async def chunks(n: int) -> Any:
                for _ in range(n):
                    yield b"x" * MiB

            r = await http.post("/test/upload", content=chunks(3), headers=RAW)  # chunked
            assert r.json() == {"size": 3 * MiB}
            r = await http.post("/test/upload", content=b"x" * (5 * MiB), headers=RAW)
            assert r.status_code == 413 and "4194304" in r.json()["detail"]
            r = await http.post("/test/tiny", json={"text": "x" * 50})
            assert r.json() == {"size": 50}
            r = await http.post("/test/tiny", json={"text": "x" * 200})
            assert r.status_code == 413


async def test_a_route_can_take_another_media_type_instead_of_json(tmp_path: Path) -> None:
    @body_types(OCTETS)
    async def raw(request: Request) -> dict[str, Any]:
        return {"size": len(await request.body())}

    with run_server(tmp_path / "d", registry=make_registry()) as server:
        server.app.add_api_route("/test/raw", raw, methods=["POST"])
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.post("/test/raw", content=b"\x00\xff", headers=RAW)
            assert r.status_code == 200 and r.json() == {"size": 2}
            for other in ("application/json", "text/plain", "multipart/form-data; boundary=x"):
                r = await http.post("/test/raw", content=b"{}", headers={"content-type": other})
                assert r.status_code == 415, (other, r.text)
                assert r.json()["detail"].endswith(f"send {OCTETS}")
            r = await http.post("/test/raw", content=b"{}")
            assert r.status_code == 415
            assert (await http.post("/test/raw")).json() == {"size": 0}  # no body, no type
            # Every other route still takes JSON only.
            r = await http.post("/tasks", content=b"\x00", headers=RAW)
            assert r.status_code == 415
            assert r.json()["detail"] == f"Unsupported media type {OCTETS}: send application/json"


def peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


async def read_response(reader: asyncio.StreamReader) -> bytes:
    """One whole response: its head, then as many body bytes as Content-Length says (the head
    and the body may arrive in different reads)."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = re.search(rb"(?i)content-length:\s*(\d+)", head)
    body = await reader.readexactly(int(length.group(1))) if length else b""
    return head + body


async def stream_body(port: int, path: str, total: int, chunked: bool) -> bytes:
    """Send a ``total``-byte body (chunked or with Content-Length) until the server answers.

    Reads while writing: the server may answer (and close) long before the body is sent.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}"
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"{framing}\r\n\r\n".encode()
    )
    response = asyncio.ensure_future(read_response(reader))

    async def send() -> None:
        chunk = b"[" + b"1," * (MiB // 2 - 1) + b"1]"
        sent = 0
        while sent < total:
            writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
            await writer.drain()

    sender = asyncio.ensure_future(send())
    try:
        await asyncio.wait({response, sender}, return_when=asyncio.FIRST_COMPLETED, timeout=60)
        head = await asyncio.wait_for(response, 30)
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        writer.close()
    return head


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
async def test_a_90_mb_body_gets_413_without_the_server_holding_it(
    tmp_path: Path, chunked: bool
) -> None:
    with ServerProcess(tmp_path / "data") as proc:
        assert proc.proc is not None
        async with httpx.AsyncClient(base_url=proc.url) as http:
            await http.post("/tasks", json={"task_type": "dummy_short"})  # warm up
        before = peak_rss_kib(proc.proc.pid)
        head = await stream_body(proc.port, "/tasks", 90 * MiB, chunked)
        grown = peak_rss_kib(proc.proc.pid) - before
    assert head.startswith(b"HTTP/1.1 413"), head[:200]
    assert b"limit is 1048576 bytes" in head
    assert grown < 8 * 1024, f"peak RSS grew by {grown} KiB"
