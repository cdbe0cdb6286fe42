"""Abuse limits on a live server: a tab that sends too fast is refused, then closed (1008),
and costs the other tabs nothing; one address may hold only so many WebSockets open."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from interlock.abuse import ClientCap
from interlock.auth import Role
from tests.support.auth import seed
from tests.support.rawws import StalledTab
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS
from tests.support.wsclose import closed_with, prompted

from .test_ws_limits import PATHS, websocket_protocols

POLICY_VIOLATION = 1008


async def start(client: httpx.AsyncClient, task_type: str, **params: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


@pytest.mark.parametrize("ws", PATHS.values(), ids=PATHS.keys())
async def test_messages_beyond_the_rate_are_refused_and_a_flood_is_closed(
    tmp_path: Path, ws: Any
) -> None:
    # A rate so low that no token comes back during the test: every count is exact.
    with run_server(
        tmp_path / "d", registry=make_registry(), ws=ws, ws_rate=0.001, ws_burst=5
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            sid = await start(http, "confirm_once")
            tab = await WS.open(server.ws_url, sid)
            try:
                prompt = await prompted(tab)
                for _ in range(5):  # the burst
                    await tab.send({"type": "ping"})
                    assert (await tab.recv())["type"] == "pong"
                answer = {"type": "confirm", "value": True, "request_id": prompt["request_id"]}
                await tab.send(answer)
                refused = await tab.recv()
                assert (refused["type"], refused["code"]) == ("error", "rate_limited")
                assert "at most 0.001 a second (bursts of 5)" in refused["message"]
                task = (await http.get(f"/tasks/{sid}")).json()
                assert task["status"] == "waiting", "a refused answer is not read"
                assert task["pending_request"]["request_id"] == prompt["request_id"]
                for _ in range(4):  # the refusals' burst (the answer was the first)
                    await tab.send({"type": "ping"})
                    assert (await tab.recv())["code"] == "rate_limited"
                await tab.send({"type": "ping"})
                assert await closed_with(tab) == POLICY_VIOLATION
                assert tab.conn.close_reason == "rate limit exceeded"
            finally:
                await tab.close()
            # A new connection has a bucket of its own, and its answer is taken.
            async with await WS.open(server.ws_url, sid) as again:
                prompt = await prompted(again)
                await again.send(answer)
                assert (await again.until("task_completed"))["result"] == {"answer": True}


async def test_the_fast_path_reads_nothing_more_from_a_flooder_it_closed(tmp_path: Path) -> None:
    """A flooder does not answer the close frame. Waiting for its reply, uvicorn would go on
    reading (and discarding) all it sends until its close timeout: the fast path hangs up."""
    with run_server(tmp_path / "d", registry=make_registry(), ws_rate=0.001, ws_burst=2) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            sid = await start(http, "confirm_once")

        def reading() -> list[bool]:  # on the server's loop
            return [c.transport.is_reading() for c in websocket_protocols(server)]

        tab = StalledTab(server.host, server.port, f"/ws/{sid}")
        try:
            tab.send_frame(0x1, b'{"type":"ping"}', times=5)  # 2 taken, 2 refused, then closed
            code, _ = await asyncio.to_thread(tab.read_until_close)
            assert code == POLICY_VIOLATION
            # The hang-up may run a loop step after the close frame went out.
            async with asyncio.timeout(5):
                while server.call(reading) not in ([], [False]):  # it still reads the flooder
                    await asyncio.sleep(0.01)
        finally:
            tab.close()


async def flood(tab: WS, count: int) -> None:
    """Send ``count`` pings as fast as the socket takes them, reading nothing."""
    try:
        for _ in range(count):
            await tab.conn.send('{"type":"ping"}')
    except ConnectionClosed:
        pass  # closed by the server before the end: that is the point


async def test_a_flooding_tab_is_closed_and_the_other_tab_misses_nothing(tmp_path: Path) -> None:
    """Default limits (20 a second, bursts of 40)."""
    with run_server(tmp_path / "d", registry=make_registry()) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            sid = await start(http, "chatty", count=300, confirm_at=1, pause=0.002)
            other = await WS.open(server.ws_url, sid)
            flooder = await WS.open(server.ws_url, sid)
            try:
                prompt = await prompted(other)
                yes = {"type": "confirm", "value": True, "request_id": prompt["request_id"]}
                await other.send(yes)
                flooding = asyncio.create_task(flood(flooder, 5000))
                assert await closed_with(flooder) == POLICY_VIOLATION
                await flooding
                await other.until("task_completed")
                seen = other.received  # everything since the handshake
            finally:
                await asyncio.gather(other.close(), flooder.close())
    seqs = [m["seq"] for m in seen if "seq" in m]
    assert seqs == list(range(1, seqs[-1] + 1)), "every message, in order"
    streams = [m["content"] for m in seen if m["type"] == "stream"]
    assert streams == [f"line {i}" for i in range(1, 301)]
    assert seen[-1]["type"] == "task_completed"


async def open_count(server: LiveServer, host: str, want: int) -> None:
    """Wait until the server counts ``want`` WebSockets of ``host`` (its handlers end after
    the client's close returns: there is no event on this side to await)."""
    cap: ClientCap = server.app.state.client_cap
    async with asyncio.timeout(10):
        while server.call(cap.open, host) != want:
            await asyncio.sleep(0.01)


async def test_one_address_may_open_64_websockets_and_the_65th_gets_429(tmp_path: Path) -> None:
    with run_server(tmp_path / "d", registry=make_registry()) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            sid = await start(http, "confirm_once")
        tabs = [await WS.open(server.ws_url, sid) for _ in range(64)]
        try:
            with pytest.raises(InvalidStatus) as refused:
                await WS.open(server.ws_url, sid)
            response = refused.value.response
            assert response.status_code == 429
            assert json.loads(response.body or b"{}") == {
                "detail": "Too many open WebSockets from 127.0.0.1 (at most 64); close some "
                "tabs and retry"
            }
            await open_count(server, "127.0.0.1", 64)  # the refused one counted nothing
            # Another address is not held back by this one.
            async with await WS.open(server.ws_url, sid, local_addr=("127.0.0.2", 0)) as other:
                assert (await other.recv())["type"] == "state_replay_start"
            # A closed tab frees its place.
            await tabs.pop().close()
            await open_count(server, "127.0.0.1", 63)
            tabs.append(await WS.open(server.ws_url, sid))
            assert (await tabs[-1].recv())["type"] == "state_replay_start"
        finally:
            await asyncio.gather(*(tab.close() for tab in tabs))
        await open_count(server, "127.0.0.1", 0)


async def test_refused_handshakes_take_no_place(tmp_path: Path) -> None:
    """Unauthenticated handshakes (401) end at once and count for nothing."""
    people = await seed(tmp_path / "d")
    with run_server(
        people.data_dir, registry=make_registry(), auth=True, max_connections_per_client=2
    ) as server:
        viewer = people.headers(Role.VIEWER)
        async with httpx.AsyncClient(base_url=server.url) as http:
            r = await http.post(
                "/tasks", json={"task_type": "confirm_once"}, headers=people.headers(Role.ADMIN)
            )
            sid = r.json()["task_id"]
        for _ in range(3):
            with pytest.raises(InvalidStatus) as refused:
                await WS.open(server.ws_url, sid)
            assert refused.value.response.status_code == 401
        tabs = [await WS.open(server.ws_url, sid, additional_headers=viewer) for _ in range(2)]
        try:
            with pytest.raises(InvalidStatus) as refused:
                await WS.open(server.ws_url, sid, additional_headers=viewer)
            assert refused.value.response.status_code == 429
        finally:
            await asyncio.gather(*(tab.close() for tab in tabs))


async def test_behind_a_local_proxy_each_forwarded_address_counts(tmp_path: Path) -> None:
    """A reverse proxy on the same machine sends X-Forwarded-For (docs/deployment.md):
    uvicorn takes the browser's address from it, and the limit is per browser."""
    with run_server(
        tmp_path / "d", registry=make_registry(), max_connections_per_client=1
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            sid = await start(http, "confirm_once")

        async def via_proxy(browser: str) -> WS:
            return await WS.open(
                server.ws_url, sid, additional_headers={"X-Forwarded-For": browser}
            )

        tabs = [await via_proxy("10.0.0.1"), await via_proxy("10.0.0.2")]
        try:
            with pytest.raises(InvalidStatus) as refused:
                await via_proxy("10.0.0.1")
            assert refused.value.response.status_code == 429
            assert b"from 10.0.0.1 (at most 1)" in (refused.value.response.body or b"")
        finally:
            await asyncio.gather(*(tab.close() for tab in tabs))
