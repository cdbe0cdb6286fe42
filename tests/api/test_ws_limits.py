"""WebSocket limits: a tab that stops reading or floods pings is closed, and costs no one else."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from tests.support.process import ServerProcess
from tests.support.rawws import StalledTab
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS

PATHS = {"fast path": None, "plain ASGI": WebSocketsSansIOProtocol}


async def start(client: httpx.AsyncClient, task_type: str, **params: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def connections(client: httpx.AsyncClient, sid: str) -> int:
    count: int = (await client.get(f"/session-info/{sid}")).json()["connections"]
    return count


async def until_connections(client: httpx.AsyncClient, sid: str, n: int, within: float) -> None:
    """Poll the server (another process's state: there is no event to await) until ``n``."""
    async with asyncio.timeout(within):
        while await connections(client, sid) != n:
            await asyncio.sleep(0.02)


def websocket_protocols(server: LiveServer) -> list[Any]:
    """uvicorn's WebSocket connections still open on the server."""
    state = server.server.server_state
    return [c for c in state.connections if isinstance(c, WebSocketsSansIOProtocol)]


@pytest.mark.parametrize("ws", PATHS.values(), ids=PATHS.keys())
async def test_a_tab_that_never_reads_is_dropped_within_seconds(tmp_path: Path, ws: Any) -> None:
    with run_server(
        tmp_path / "d", registry=make_registry(), ws=ws, ws_queue_size=16, history_size=10
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            sid = await start(client, "chatty_big", count=100_000, size=16384, pause=0.001)
            stalled = StalledTab(server.host, server.port, f"/ws/{sid}")
            try:
                await until_connections(client, sid, 1, within=10)
                # Overflow: unsubscribed at once, then closed (aborted: it reads nothing).
                await until_connections(client, sid, 0, within=10)
                assert server.call(server.manager.bus.subscriber_count, sid) == 0
                async with asyncio.timeout(10):
                    # The handler ended (uvicorn holds a task per request and WebSocket) ...
                    while server.server.server_state.tasks:
                        await asyncio.sleep(0.02)
                    # ... and on the fast path the TCP connection is gone too.
                    while ws is None and websocket_protocols(server):
                        await asyncio.sleep(0.02)
                assert await asyncio.to_thread(stalled.read_until_end) in {1013, None}
            finally:
                stalled.close()
            await client.delete(f"/tasks/{sid}")


@pytest.mark.parametrize("ws", PATHS.values(), ids=PATHS.keys())
async def test_a_tab_that_falls_behind_then_reads_gets_1013(tmp_path: Path, ws: Any) -> None:
    with run_server(
        tmp_path / "d", registry=make_registry(), ws=ws, ws_queue_size=16, history_size=10
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            sid = await start(client, "chatty_big", count=100_000, size=4096, pause=0.001)
            slow = StalledTab(server.host, server.port, f"/ws/{sid}")
            try:
                await until_connections(client, sid, 1, within=10)
                await until_connections(client, sid, 0, within=10)
                assert await asyncio.to_thread(slow.read_until_end) == 1013
            finally:
                slow.close()
            await client.delete(f"/tasks/{sid}")


def peak_rss_kib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]


async def test_a_ping_flood_is_closed_1008_and_other_tabs_get_every_message(
    tmp_path: Path,
) -> None:
    with ServerProcess(tmp_path / "data") as proc:
        assert proc.proc is not None
        async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
            r = await client.post(
                "/tasks",
                json={"task_type": "dummy_long", "parameters": {"duration": 1, "steps": 50}},
            )
            sid = r.json()["task_id"]
            before = peak_rss_kib(proc.proc.pid)
            async with await WS.open(proc.ws_url, sid) as tab:
                flooder = StalledTab("127.0.0.1", proc.port, f"/ws/{sid}")
                try:
                    # 400 000 pings (52 MB): unbounded, their pongs alone would be 50 MB.
                    sent = await asyncio.to_thread(flooder.flood_pings, 400_000)
                    code = await asyncio.to_thread(flooder.read_until_end)
                finally:
                    flooder.close()
                await tab.until("task_completed", timeout=30)
            grown = peak_rss_kib(proc.proc.pid) - before
    assert sent < 400_000, "the flooder was never closed"
    assert code in {1008, None}  # closed, or aborted when even the close could not go out
    assert grown < 8 * 1024, f"peak RSS grew by {grown} KiB"
    seqs = [m["seq"] for m in tab.received if "seq" in m]
    assert seqs == list(range(1, len(seqs) + 1))
    assert [m["type"] for m in tab.received].count("progress") >= 50


async def test_a_ping_burst_gets_1008_with_a_reason(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        sid = await start(client, "block")
    tab = StalledTab(server.host, server.port, f"/ws/{sid}")
    try:
        # One write: the server must not close while pings it has not read are still
        # arriving (the kernel would answer them with a reset and drop the close frame).
        tab.send_frame(0x9, b"hi", times=100)
        assert await asyncio.to_thread(tab.read_until_end) == 1008
    finally:
        tab.close()


async def test_a_client_that_pings_and_reads_stays_connected(server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        sid = await start(client, "block")
        async with await WS.open(server.ws_url, sid) as tab:
            await tab.replay()
            for _ in range(20):
                await asyncio.wait_for(await tab.conn.ping(), 5)
            await tab.send({"type": "ping"})
            assert (await tab.until("pong"))["type"] == "pong"
            await tab.send({"type": "cancel"})
            await tab.until("task_cancelled")
