"""While the store fails, reads that need it answer 503 in bounded time instead of hanging,
and what lives in memory is still served."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.support.faults import locked_database
from tests.support.server import run_server
from tests.support.tasks import make_registry

STORE_TIMEOUT = 1.0


async def test_reads_that_need_a_failing_store_answer_503_in_bounded_time(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "data", registry=make_registry(), store_timeout=STORE_TIMEOUT
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.post(
                "/tasks", json={"task_type": "chatty", "parameters": {"count": 1000, "pause": 0.02}}
            )
            sid = r.json()["task_id"]
            with locked_database(server.settings.database_path):
                async with asyncio.timeout(10):
                    while (await client.get("/health")).status_code != 503:
                        await asyncio.sleep(0.02)
                # These wait for what is still unwritten, which cannot be written now.
                for route in ("/tasks", f"/tasks/{sid}/requests"):
                    started = time.monotonic()
                    r = await client.get(route)
                    assert r.status_code == 503, (route, r.text)
                    assert r.json()["code"] == "store_unavailable"
                    assert r.headers["retry-after"]
                    # Bounded by the store timeout, not hanging until the lock goes.
                    assert time.monotonic() - started < 10 * STORE_TIMEOUT
                # A lock keeps writers out, not readers: a plain lookup still answers.
                assert (await client.get("/tasks/nope")).status_code == 404
                # The live session is in memory: it is still served.
                live = await client.get(f"/tasks/{sid}")
                assert live.status_code == 200 and live.json()["status"] == "running"
            async with asyncio.timeout(10):
                while (await client.get("/health")).status_code != 200:
                    await asyncio.sleep(0.02)
            assert (await client.get("/tasks")).status_code == 200
            assert (await client.delete(f"/tasks/{sid}")).status_code == 200
