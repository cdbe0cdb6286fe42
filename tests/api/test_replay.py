"""Replay + live has no gap and no duplicate, whenever a tab (re)connects."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.rawws import StalledTab
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry, open_gate
from tests.support.ws import WS

COUNT = 150


@pytest.fixture(scope="module")
def roomy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """History big enough that a reconnecting tab never hits trimming."""
    data = tmp_path_factory.mktemp("replay") / "data"
    with run_server(data, registry=make_registry(), history_size=5000, max_concurrent=100) as live:
        yield live


async def read_session(base: str, sid: str, cuts: list[int]) -> list[int]:
    """Read the session, dropping the connection after each number of messages in ``cuts``."""
    seen: list[int] = []
    since: int | None = None
    for cut in [*cuts, 10**9]:
        ws = await WS.open(base, sid, since=since)
        try:
            _, items, complete = await ws.replay()
            seen.extend(m["seq"] for m in items)
            got = len(items)
            finished = any(m["type"] == "task_completed" for m in items)
            while not finished and got < cut:
                msg = await ws.recv()
                seen.append(msg["seq"])
                got += 1
                finished = msg["type"] == "task_completed"
        finally:
            await ws.close()
        since = seen[-1] if seen else complete["last_seq"]
        if finished:
            return seen
    return seen


def run_scenario(server: LiveServer, cuts: list[int], pause: float) -> None:
    async def scenario() -> None:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post(
                "/tasks",
                json={"task_type": "chatty", "parameters": {"count": COUNT, "pause": pause}},
            )
            sid = r.json()["task_id"]
            seen = await read_session(server.ws_url, sid, cuts)
        assert seen == list(range(1, len(seen) + 1)), "gap or duplicate"
        assert len(seen) >= COUNT

    asyncio.run(scenario())


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=8),
    pause=st.sampled_from([0.0, 0.0002, 0.001]),
)
def test_reconnecting_at_random_points_never_gaps_or_duplicates(
    roomy_server: LiveServer, cuts: list[int], pause: float
) -> None:
    run_scenario(roomy_server, cuts, pause)


async def test_many_tabs_joining_while_streaming_all_see_everything(
    roomy_server: LiveServer,
) -> None:
    async with httpx.AsyncClient(base_url=roomy_server.url) as client:
        r = await client.post(
            "/tasks", json={"task_type": "chatty", "parameters": {"count": COUNT, "pause": 0.0005}}
        )
        sid = r.json()["task_id"]

        async def tab(delay_msgs: int) -> list[int]:
            await asyncio.sleep(delay_msgs * 0.001)
            return await read_session(roomy_server.ws_url, sid, [])

        results = await asyncio.gather(*(tab(i * 7) for i in range(10)))
    for seen in results:
        assert seen == list(range(1, len(seen) + 1))
        assert len(seen) >= COUNT


async def test_slow_tab_is_closed_1013_and_fast_tab_unaffected(tmp_path: Path) -> None:
    """A tab that stops reading is closed 1013 once its outbox overflows; a tab that reads
    gets every message. The task streams in bursts the test releases once the fast tab has
    read the last one, so nothing here depends on how fast the machine is: the stalled tab
    overflows by volume (24 MB against socket buffers of a few MB), not by time."""
    count, burst, gate = 1500, 8, f"paced-{uuid.uuid4().hex}"
    with run_server(
        tmp_path / "d", registry=make_registry(), ws_queue_size=128, history_size=10
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post(
                "/tasks",
                json={
                    "task_type": "paced_big",
                    "parameters": {"count": count, "size": 16384, "burst": burst, "gate": gate},
                },
            )
            sid = r.json()["task_id"]
            slow = StalledTab(server.host, server.port, f"/ws/{sid}")
            async with await WS.open(server.ws_url, sid) as fast:
                await fast.replay()  # the task waits at the gate: nothing trimmed yet
                for start in range(0, count, burst):
                    open_gate(server, gate)
                    for _ in range(min(burst, count - start)):
                        await fast.until("stream")
                done = await fast.until("task_completed")
                assert done["result"]["lines"] == count
                seqs = [m["seq"] for m in fast.received if "seq" in m]
                assert seqs == list(range(1, len(seqs) + 1))
                assert sum(m["type"] == "stream" for m in fast.received) == count
            # Closed with 1013, or aborted if it did not take the close frame within seconds
            # (tests/api/test_ws_limits.py covers both).
            code = await asyncio.to_thread(slow.read_until_end)
            slow.close()
            assert server.call(server.manager.bus.subscriber_count, sid) == 0
    assert code in {1013, None}
