"""Redis goes away and comes back: nothing acknowledged is lost, nothing acts unstored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from interlock.store import RedisStore
from tests.support.redis import RedisServer
from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


async def test_redis_killed_and_restarted_with_aof_loses_nothing_acknowledged(
    tmp_path: Path,
) -> None:
    with (
        RedisServer(tmp_path) as redis,
        run_server(
            tmp_path / "data",
            registry=make_registry(),
            redis_url=redis.url,
            store_timeout=1.0,
            max_concurrent=2,
        ) as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            r = await client.post(
                "/tasks",
                json={"task_type": "confirm_once", "parameters": {"kind": "hazard", "before": 5}},
            )
            assert r.status_code == 202
            sid = r.json()["task_id"]
            async with await WS.open(server.ws_url, sid) as ws:
                prompt = await ws.until("request_confirmation")
                rid = prompt["request_id"]
                redis.kill()
                # Degraded at once, before anything tries to write.
                async with asyncio.timeout(10):
                    while (await client.get("/health")).status_code != 503:
                        await asyncio.sleep(0.05)
                # The answer cannot be stored: refused, and the task does not act.
                await ws.send({"type": "confirm", "value": True, "request_id": rid})
                assert (await ws.until("error"))["code"] == "store_unavailable"
                health = await client.get("/health")
                assert health.status_code == 503 and health.json()["status"] == "degraded"
                assert "Redis" in health.json()["reason"]
                r = await client.post(
                    "/tasks", json={"task_type": "confirm_once", "parameters": {}}
                )
                assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
                assert (await client.get(f"/tasks/{sid}")).json()["status"] == "waiting"

                redis.start()  # the same directory: it reloads its append-only file
                async with asyncio.timeout(20):
                    while (await client.get("/health")).status_code != 200:
                        await asyncio.sleep(0.05)
                await ws.send({"type": "confirm", "value": False, "request_id": rid})
                done = await ws.until("task_completed")
            assert done["result"] == {"answer": False}
            (request,) = (await client.get(f"/tasks/{sid}/requests")).json()
            assert request["answer"] is False and request["status"] == "answered"

    # Everything a tab was shown is in Redis after its restart: the lines, the prompt, the end.
    with RedisServer(tmp_path) as redis:
        store = RedisStore(redis.url, prefix=server.settings.redis_prefix)
        await store.open()
        try:
            stored = await store.load_messages(sid)
            task = await store.get_task(sid)
        finally:
            await store.close()
    types = [m.type for m in stored]
    assert [m.seq for m in stored] == list(range(1, len(stored) + 1))
    assert types.count("stream") == 5 and "request_confirmation" in types
    assert types[-1] == "task_completed" and task is not None and task.status == "completed"
