"""POST /uploads, and task parameters that are uploaded files (``InputFile``)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from pydantic import BaseModel, Field

from interlock.runtime import TaskContext
from interlock.uploads import InputFile
from interlock.uploads.multipart import display_name
from tests.api.test_bodies import peak_rss_kib
from tests.support.faults import tmpfs
from tests.support.process import ServerProcess
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS

MiB = 1024 * 1024


class ReadParams(BaseModel):
    doc: Annotated[str, InputFile(suffixes=(".txt", ".MD"))] = Field(description="A text")
    more: list[Annotated[str, InputFile()]] = Field(default_factory=list)


def registry_with_file_task() -> Any:
    registry = make_registry()

    @registry.task("read_doc", params=ReadParams)
    async def read_doc(ctx: TaskContext[ReadParams]) -> dict[str, Any]:
        text = await ctx.run_blocking(ctx.input_path("doc").read_text)
        more = [
            ctx.input_path(f"more.{i}").read_bytes().decode() for i in range(len(ctx.params.more))
        ]
        upload = await ctx.input_file("doc")
        return {"text": text, "more": more, "filename": upload.filename, "sha256": upload.sha256}

    @registry.task("confirm_doc", params=ReadParams)
    async def confirm_doc(ctx: TaskContext[ReadParams]) -> str:
        """Asks before it reads the file."""
        await ctx.confirm("Read it?")
        return await ctx.run_blocking(ctx.input_path("doc").read_text)

    return registry


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with run_server(tmp_path / "data", registry=registry_with_file_task()) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


def stored(server: LiveServer) -> list[str]:
    """What the uploads folder holds (the lock file aside)."""
    folder = server.settings.uploads_dir
    return sorted(p.name for p in folder.iterdir() if p.name != ".lock") if folder.exists() else []


async def upload(
    client: httpx.AsyncClient, name: str, data: bytes, ctype: str = "text/plain"
) -> dict[str, Any]:
    r = await client.post("/uploads", files={"file": (name, data, ctype)})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


async def run_to_end(
    server: LiveServer, client: httpx.AsyncClient, parameters: dict[str, Any]
) -> dict[str, Any]:
    r = await client.post("/tasks", json={"task_type": "read_doc", "parameters": parameters})
    assert r.status_code == 202, r.text
    async with await WS.open(server.ws_url, r.json()["task_id"]) as ws:
        return await ws.until("task_completed")


# ------------------------------------------------------------------------------ POST /uploads


async def test_an_upload_is_stored_under_a_new_id_with_its_name_size_and_sha256(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    data = b"line 1\nline 2\n" * 1000
    body = await upload(client, "notes.txt", data)
    assert set(body) == {"upload_id", "filename", "size", "sha256"}
    assert body["filename"] == "notes.txt" and body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    upload_id = body["upload_id"]
    assert stored(server) == sorted([upload_id, f"{upload_id}.json"])
    assert (server.settings.uploads_dir / upload_id).read_bytes() == data
    meta = json.loads((server.settings.uploads_dir / f"{upload_id}.json").read_text())
    assert meta["content_type"] == "text/plain" and meta["last_used_at"] is None
    assert meta["uploaded_by"] is None  # authentication is off
    again = await upload(client, "notes.txt", data)
    assert again["upload_id"] != upload_id  # every upload gets its own id


async def test_a_file_over_the_app_wide_body_cap_is_taken(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    data = bytes(range(256)) * (3 * MiB // 256)  # 3 MiB, over INTERLOCK_MAX_BODY_BYTES
    body = await upload(client, "big.bin", data, "application/octet-stream")
    assert body["size"] == len(data)
    assert (server.settings.uploads_dir / body["upload_id"]).read_bytes() == data


async def test_the_client_file_name_is_only_metadata(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    body = await upload(client, "../../outside/evil\u202etxt.csv", b"x")
    assert body["filename"] == "eviltxt.csv"
    assert stored(server) == sorted([body["upload_id"], f"{body['upload_id']}.json"])
    assert not (server.settings.data_dir.parent / "outside").exists()


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\scan.csv", "scan.csv"),
        ("a\x00b\x1b[31m.csv", "ab[31m.csv"),
        ("right\u202eto\u200bleft.csv", "righttoleft.csv"),
        ("  spaced name.csv  ", "spaced name.csv"),
        ("", "upload"),
        ("../", "upload"),
        ("x" * 300 + ".csv", "x" * 251 + ".csv"),
    ],
)
def test_file_names_are_made_safe_to_show(raw: str, shown: str) -> None:
    assert display_name(raw) == shown


@pytest.mark.parametrize(
    ("content", "headers", "status", "says"),
    [
        (b'{"file": "x"}', {"content-type": "application/json"}, 415, "multipart/form-data"),
        (b"x", {"content-type": "multipart/form-data"}, 400, "without a boundary"),
        (
            b'--B\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nabc',
            {"content-type": "multipart/form-data; boundary=B"},
            400,
            "ended before its closing boundary",
        ),
        (
            b'--B\r\nContent-Disposition: form-data; name="note"\r\n\r\nhi\r\n--B--\r\n',
            {"content-type": "multipart/form-data; boundary=B"},
            422,
            "unexpected part 'note'",
        ),
        (
            b'--B\r\nContent-Disposition: form-data; name="file"\r\n\r\nhi\r\n--B--\r\n',
            {"content-type": "multipart/form-data; boundary=B"},
            422,
            "not a file",
        ),
        (b"--B--\r\n", {"content-type": "multipart/form-data; boundary=B"}, 422, "no file"),
        (b"garbage", {"content-type": "multipart/form-data; boundary=B"}, 400, "malformed"),
    ],
)
async def test_a_bad_body_gets_a_clear_error_and_leaves_nothing(
    server: LiveServer,
    client: httpx.AsyncClient,
    content: bytes,
    headers: dict[str, str],
    status: int,
    says: str,
) -> None:
    r = await client.post("/uploads", content=content, headers=headers)
    assert r.status_code == status, r.text
    assert says in r.text
    assert stored(server) == []


async def test_two_files_in_one_upload_are_refused(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    r = await client.post("/uploads", files=[("file", ("a.txt", b"1")), ("file", ("b.txt", b"2"))])
    assert r.status_code == 422
    assert r.json()["detail"][0] == {
        "loc": ["body", "file"],
        "msg": "one file per upload: send each file by itself",
        "type": "value_error",
    }
    assert stored(server) == []


async def chunked_multipart(port: int, size: int, chunk: int = 64 * 1024) -> bytes:
    """POST /uploads a ``size``-byte file as a chunked body (no Content-Length) until the
    server answers; returns the answer (head and body)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        b"POST /uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: multipart/form-data; boundary=B\r\n\r\n"
    )

    async def answer() -> bytes:
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        return head + await reader.readexactly(length)

    response = asyncio.ensure_future(answer())

    def frame(data: bytes) -> bytes:
        return b"%x\r\n%s\r\n" % (len(data), data)

    async def send() -> None:
        writer.write(
            frame(b'--B\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n')
        )
        sent = 0
        while sent < size:
            piece = b"x" * min(chunk, size - sent)
            writer.write(frame(piece))
            sent += len(piece)
            await writer.drain()
        writer.write(frame(b"\r\n--B--\r\n") + b"0\r\n\r\n")
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


async def test_a_file_over_the_cap_gets_413_while_it_streams_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    with run_server(tmp_path / "data", max_upload_mb=0.25) as server:
        cap = 256 * 1024
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            exact = await http.post("/uploads", files={"file": ("a.bin", b"x" * cap)})
            assert exact.status_code == 201 and exact.json()["size"] == cap
            over = await http.post("/uploads", files={"file": ("a.bin", b"x" * (cap + 1))})
            assert over.status_code == 413
            assert over.json() == {
                "detail": "Upload too large: the limit is 0.25 MiB (262144 bytes)"
            }
            # A declared length far over the cap is refused before a byte is read.
            r = await http.post(
                "/uploads",
                content=b"x" * (2 * MiB),
                headers={"content-type": "multipart/form-data; boundary=B"},
            )
            assert r.status_code == 413
        head = await chunked_multipart(server.port, 3 * MiB)  # no length to go by
        assert head.startswith(b"HTTP/1.1 413"), head[:200]
        assert b"Upload too large" in head
        kept = exact.json()["upload_id"]
        assert stored(server) == sorted([kept, f"{kept}.json"])  # no partial file left


async def test_a_60_mb_upload_is_refused_and_a_45_mb_one_stored_without_the_server_holding_either(
    tmp_path: Path,
) -> None:
    with ServerProcess(tmp_path / "data") as proc:  # the default cap: 50 MiB
        assert proc.proc is not None
        async with httpx.AsyncClient(base_url=proc.url) as http:  # warm up the route
            assert (await http.post("/uploads", files={"file": ("a", b"a")})).status_code == 201
        before = peak_rss_kib(proc.proc.pid)
        refused = await chunked_multipart(proc.port, 60 * MiB)
        kept = await chunked_multipart(proc.port, 45 * MiB)
        grown = peak_rss_kib(proc.proc.pid) - before
    assert refused.startswith(b"HTTP/1.1 413"), refused[:300]
    assert kept.startswith(b"HTTP/1.1 201"), kept[:300]
    body = json.loads(kept.split(b"\r\n\r\n", 1)[1])
    assert body["size"] == 45 * MiB
    assert body["sha256"] == hashlib.sha256(b"x" * (45 * MiB)).hexdigest()
    assert (tmp_path / "data" / "uploads" / body["upload_id"]).stat().st_size == 45 * MiB
    assert grown < 8 * 1024, f"peak RSS grew by {grown} KiB"
    assert not list((tmp_path / "data" / "uploads").glob(".partial-*"))


# ---------------------------------------------------------------------- file parameters


async def test_a_task_reads_its_uploaded_files(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    doc = await upload(client, "Notes.TXT", "µ-scan notes".encode())
    extra = await upload(client, "anything.bin", b"\x01\x02")
    end = await run_to_end(server, client, {"doc": doc["upload_id"], "more": [extra["upload_id"]]})
    assert end["result"] == {
        "text": "µ-scan notes",
        "more": ["\x01\x02"],
        "filename": "Notes.TXT",
        "sha256": doc["sha256"],
    }
    meta = json.loads((server.settings.uploads_dir / f"{doc['upload_id']}.json").read_text())
    assert meta["last_used_at"] is not None  # creating the task marked it used


async def test_the_schema_marks_file_parameters_for_the_console(client: httpx.AsyncClient) -> None:
    types = {t["name"]: t for t in (await client.get("/task-types")).json()}
    props = types["read_doc"]["parameters_schema"]["properties"]
    assert props["doc"]["format"] == "interlock-upload"
    assert props["doc"]["x-interlock-suffixes"] == [".txt", ".md"]
    assert props["more"]["items"]["x-interlock-suffixes"] == []


async def test_an_unknown_or_malformed_upload_id_is_a_field_error(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    unknown = "0" * 32
    r = await client.post("/tasks", json={"task_type": "read_doc", "parameters": {"doc": unknown}})
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "parameters", "doc"]
    assert error["msg"].startswith(f"unknown upload '{unknown}': upload the file again")
    r = await client.post(
        "/tasks", json={"task_type": "read_doc", "parameters": {"doc": "../interlock.sqlite3"}}
    )
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "parameters", "doc"]
    assert error["msg"].startswith("not an upload id")
    good = await upload(client, "a.txt", b"a")
    r = await client.post(
        "/tasks",
        json={"task_type": "read_doc", "parameters": {"doc": good["upload_id"], "more": [unknown]}},
    )
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [["body", "parameters", "more", "0"]]
    assert (await client.get("/tasks")).json() == []  # nothing was created


async def test_a_file_with_a_suffix_the_parameter_does_not_take_is_a_field_error(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    csv = await upload(client, "scan.csv", b"x\n1\n")
    r = await client.post(
        "/tasks", json={"task_type": "read_doc", "parameters": {"doc": csv["upload_id"]}}
    )
    assert r.status_code == 422
    assert r.json()["detail"] == [
        {
            "loc": ["body", "parameters", "doc"],
            "msg": "'scan.csv' is not a .txt, .md file",
            "type": "value_error",
        }
    ]
    meta = json.loads((server.settings.uploads_dir / f"{csv['upload_id']}.json").read_text())
    assert meta["last_used_at"] is None  # a refused task uses nothing


async def test_a_full_disk_is_507_and_leaves_nothing(tmp_path: Path) -> None:
    uploads = tmp_path / "data" / "uploads"
    with tmpfs(uploads, size="1m"), run_server(tmp_path / "data") as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            r = await http.post("/uploads", files={"file": ("big.bin", b"x" * (2 * MiB))})
            assert r.status_code == 507, r.text
            assert r.json()["detail"].startswith("The server could not store the upload: No space")
            assert [p.name for p in uploads.iterdir()] == []  # the partial file is gone
            assert (await upload(http, "small.txt", b"fits"))["size"] == 4  # room again
