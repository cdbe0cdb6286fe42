"""A server whose event loop was held fails its test; servers bind port 0 and say which port.

These check the test harness itself (``tests.support.loopwatch``): were the slow-callback
check silently off, every other test would pass over a blocked loop.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from interlock.loopwatch import SLOW_CALLBACK
from tests.support import process_tasks
from tests.support.process import ServerProcess
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS

BLOCKED = (
    r"blocked its event loop \(1 slow callback report\(s\)[^\n]*\n"
    r"[^\n]*Executing .* took 0\.\d+ seconds"
)


async def run_to_completion(base: str, ws_base: str, task_type: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        r = await client.post("/tasks", json={"task_type": task_type})
        assert r.status_code == 202, r.text
        async with await WS.open(ws_base, r.json()["task_id"]) as ws:
            await ws.until("task_completed")


def test_test_servers_run_their_loop_in_debug_mode(server: LiveServer) -> None:
    def mode() -> tuple[bool, float]:
        loop = asyncio.get_running_loop()
        return loop.get_debug(), loop.slow_callback_duration

    assert server.call(mode) == (True, SLOW_CALLBACK)


async def test_a_task_holding_the_loop_fails_the_in_process_server(tmp_path: Path) -> None:
    registry = make_registry()
    process_tasks.register(registry)
    with (
        pytest.raises(AssertionError, match=BLOCKED),
        run_server(tmp_path / "data", registry=registry) as server,
    ):
        await run_to_completion(server.url, server.ws_url, "hold_the_loop")


async def test_a_task_holding_the_loop_fails_interlock_serve_when_it_stops(
    tmp_path: Path,
) -> None:
    with ServerProcess(tmp_path / "data", INTERLOCK_TASK_MODULES=process_tasks.__name__) as proc:
        await run_to_completion(proc.url, proc.ws_url, "hold_the_loop")
        with pytest.raises(AssertionError, match=BLOCKED):
            await asyncio.to_thread(proc.stop)
    assert "INTERLOCK_DEBUG_LOOP: asyncio debug mode on" in proc.output()


async def test_servers_on_port_0_each_report_the_port_they_got(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "a") as one, ServerProcess(tmp_path / "b") as two:
        assert 0 < one.port != two.port > 0
        for proc in (one, two):
            assert re.search(
                rf"Interlock listening on http://127\.0\.0\.1:{proc.port}\b", proc.output()
            )
            async with httpx.AsyncClient(base_url=proc.url) as client:
                assert (await client.get("/health")).status_code == 200
            await asyncio.to_thread(proc.stop)
