"""Wire output: frames built once, an idle tab's write at once and the rest of an event-loop
step in one socket write, order kept; the fast path is on in ``interlock serve`` and falls
back, with one warning, where uvicorn lacks it."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.frames import WireText, frame_of
from interlock.wire import (
    CoalescingTransport,
    CoalescingWebSocketProtocol,
    is_fast_path,
    websocket_protocol,
)
from tests.support.process import ServerProcess
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


class OldUvicornProtocol(CoalescingWebSocketProtocol):
    """Plays a uvicorn release whose protocol lacks an attribute the fast path builds on."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.disconnected


class RecordingTransport(asyncio.Transport):
    """Stands in for the socket transport (outside the project): records each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0


async def test_an_idle_write_goes_out_at_once_and_the_rest_of_its_step_in_one_write() -> None:
    inner = RecordingTransport()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    for i in range(100):
        t.write(f"{i},".encode())
    assert inner.writes == [b"0,"]
    assert t.get_write_buffer_size() == sum(len(f"{i},") for i in range(1, 100))
    await asyncio.sleep(0)
    assert inner.writes == [b"0,", "".join(f"{i}," for i in range(1, 100)).encode()]
    t.write(b"next")
    t.write(b"!")
    assert inner.writes[-1] == b"next"
    await asyncio.sleep(0)
    assert inner.writes[-1] == b"!"


async def test_one_callback_flushes_every_transport_of_the_step() -> None:
    loop = asyncio.get_running_loop()
    inners = [RecordingTransport() for _ in range(3)]
    transports = [CoalescingTransport(inner, loop) for inner in inners]
    for t in transports:
        t.write(b"a")
        t.write(b"b")
    ready = len(loop._ready)  # type: ignore[attr-defined]  # asyncio's queue of callbacks
    assert ready == 1, f"{ready} callbacks for one step's flush"
    await asyncio.sleep(0)
    assert all(inner.writes == [b"a", b"b"] for inner in inners)


async def test_close_flushes_first_and_abort_drops() -> None:
    inner = RecordingTransport()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"last ")
    t.write(b"words")
    t.close()
    assert inner.writes == [b"last ", b"words"] and inner.closed
    inner2 = RecordingTransport()
    t2 = CoalescingTransport(inner2, asyncio.get_running_loop())
    t2.write(b"sent")
    t2.write(b"never")
    t2.abort()
    await asyncio.sleep(0)
    assert inner2.writes == [b"sent"] and inner2.aborted


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_frames_carry_any_length_and_are_built_once(size: int) -> None:
    text = WireText("é" * (size // 2) + "a" * (size % 2))
    frame = frame_of(text)
    payload = text.encode()
    assert frame.endswith(payload) and frame[0] == 0x81  # FIN + text, no RSV bits
    header = frame[: len(frame) - len(payload)]
    if len(payload) < 126:
        assert header == bytes([0x81, len(payload)])
    elif len(payload) < 65536:
        assert header[1] == 126 and int.from_bytes(header[2:4], "big") == len(payload)
    else:
        assert header[1] == 127 and int.from_bytes(header[2:10], "big") == len(payload)
    assert frame_of(text) is frame


async def test_messages_of_every_size_reach_a_real_client(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    for size in (10, 200, 70_000):
        r = await client.post(
            "/tasks", json={"task_type": "chatty_big", "parameters": {"count": 3, "size": size}}
        )
        sid = r.json()["task_id"]
        async with await WS.open(server.ws_url, sid) as ws:
            await ws.until("task_completed")
        lines = [m["content"] for m in ws.received if m["type"] == "stream"]
        assert lines == [f"{i} {'x' * size}" for i in range(3)]


async def test_a_plain_asgi_server_works_without_the_frames_extension(tmp_path: Path) -> None:
    # uvicorn's own sans-I/O protocol: Connection falls back to ASGI sends.
    with run_server(tmp_path / "d", registry=make_registry(), ws="websockets-sansio") as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.post("/tasks", json={"task_type": "confirm_once", "parameters": {}})
            sid = r.json()["task_id"]
            async with await WS.open(server.ws_url, sid) as ws:
                await ws.until("request_confirmation")
                await ws.send({"type": "confirm", "value": True})
                assert (await ws.until("task_completed"))["result"] == {"answer": True}


def test_interlock_serve_runs_the_fast_path(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "data") as proc:
        health = httpx.get(f"{proc.url}/health").json()
        log = proc.output()
    assert health["ws_fast_path"] is True, log
    assert "WebSocket fast path: on" in log
    assert "fast path off" not in log


async def test_without_the_attributes_it_falls_back_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="interlock.wire"):
        protocol = websocket_protocol(OldUvicornProtocol)
        assert websocket_protocol(OldUvicornProtocol) is protocol
    assert not is_fast_path(protocol)
    warnings = [r.getMessage() for r in caplog.records if r.name == "interlock.wire"]
    assert len(warnings) == 1 and "lacks disconnected" in warnings[0], warnings
    assert is_fast_path(websocket_protocol())
    with run_server(tmp_path / "d", registry=make_registry(), ws=protocol) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/health")).json()["ws_fast_path"] is False
            r = await http.post("/tasks", json={"task_type": "chatty", "parameters": {}})
            async with await WS.open(server.ws_url, r.json()["task_id"]) as ws:
                done = await ws.until("task_completed")
    assert done["result"]["lines"] == 10
