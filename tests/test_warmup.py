"""The first requests to a fresh ``interlock serve`` read no file and import nothing on the
event loop: what libraries leave to first use is done at start-up, in a thread."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.support import audit
from tests.support.process import ServerProcess
from tests.support.ws import WS

HTML = {"accept": "text/html"}


async def first_requests(proc: ServerProcess) -> None:
    """One of each kind a console and a script make, each for the first time."""
    async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
        for path, headers in [
            ("/", HTML),
            ("/", {}),
            ("/health", {}),
            ("/sessions/some-session", HTML),
            ("/favicon.ico", {}),
            ("/task-types", {}),
            ("/tasks", {}),
            ("/hardware", {}),
            ("/openapi.json", {}),
            ("/docs", HTML),
        ]:
            r = await client.get(path, headers=headers)
            assert r.status_code == 200, (path, r.status_code)
        r = await client.post(
            "/tasks",
            json={"task_type": "interactive_demo", "parameters": {"stream_count": 2, "delay": 0}},
        )
        assert r.status_code == 202, r.text
        sid = r.json()["task_id"]
        async with await WS.open(proc.ws_url, sid) as ws:
            await ws.until("request_user_input")
            await ws.send({"type": "cancel"})
            await ws.until("task_cancelled")
        assert (await client.get(f"/tasks/{sid}/requests")).status_code == 200
        assert (await client.delete(f"/tasks/{sid}")).status_code == 400  # ended already


@pytest.mark.parametrize("debug_loop", [False, True], ids=["production", "debug_loop"])
async def test_first_requests_touch_no_file_on_the_event_loop(
    tmp_path: Path, debug_loop: bool
) -> None:
    with ServerProcess(
        tmp_path / "data", debug_loop=debug_loop, INTERLOCK_TASK_MODULES=audit.__name__
    ) as proc:
        started = len(proc.output())
        await first_requests(proc)
        await asyncio.to_thread(proc.stop)
    during = [line for line in proc.output()[started:].splitlines() if audit.MARK in line]
    assert during == [], "\n".join(during)
