"""Two nodes on one Redis prefix, in this process: a web node (``worker=False``) and a
worker. Whatever reaches the web node — a tab, an answer, a cancel, a hardware stop — acts
where the task runs."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.store import TaskRecord, WriteBatch
from tests.support.redis import URL, redis_prefix
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


@dataclass
class Pair:
    web: LiveServer
    worker: LiveServer


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with (
        redis_prefix() as prefix,
        run_server(
            tmp_path / "worker",
            registry=make_registry(),
            redis_url=URL,
            redis_prefix=prefix,
            max_concurrent=4,
        ) as worker,
        run_server(
            tmp_path / "web",
            registry=make_registry(),
            redis_url=URL,
            redis_prefix=prefix,
            worker=False,
            max_concurrent=4,
        ) as web,
    ):
        yield Pair(web, worker)


async def start(client: httpx.AsyncClient, task_type: str, **parameters: object) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": parameters})
    assert r.status_code == 202, r.text
    return str(r.json()["task_id"])


async def test_a_tab_on_the_web_node_follows_and_answers_a_task_the_worker_runs(
    pair: Pair,
) -> None:
    async with httpx.AsyncClient(base_url=pair.web.url, timeout=10) as client:
        sid = await start(client, "confirm_once", kind="hazard", before=3)
        async with await WS.open(pair.web.ws_url, sid) as ws:
            prompt = await ws.until("request_confirmation")
            assert sid in pair.worker.manager.active  # the worker runs it
            assert sid not in pair.web.manager.active
            for node in (pair.web, pair.worker):  # a mirror, and the REST view of either
                async with httpx.AsyncClient(base_url=node.url, timeout=10) as rest:
                    task = (await rest.get(f"/tasks/{sid}")).json()
                assert task["status"] == "waiting"
                assert task["pending_request"]["request_id"] == prompt["request_id"]
            await ws.send({"type": "confirm", "request_id": prompt["request_id"], "value": True})
            resolved = await ws.until("request_resolved")
            assert resolved["reason"] == "answered"
            await ws.until("task_completed")
            await ws.send({"type": "confirm", "request_id": prompt["request_id"], "value": True})
            assert (await ws.until("error"))["code"] == "already_answered"
        task = (await client.get(f"/tasks/{sid}")).json()
        assert task["status"] == "completed"
        audit = (await client.get(f"/tasks/{sid}/requests")).json()
        assert [r["status"] for r in audit] == ["answered"]


async def test_a_late_tab_on_the_web_node_replays_then_goes_on_live(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.web.url, timeout=10) as client:
        sid = await start(client, "confirm_once", kind="hazard", before=5)
        async with await WS.open(pair.worker.ws_url, sid) as first:
            prompt = await first.until("request_confirmation")
        task = (await client.get(f"/tasks/{sid}")).json()  # no tab here: read from the store
        assert task["pending_request"]["request_id"] == prompt["request_id"]
        async with await WS.open(pair.web.ws_url, sid, since=2) as ws:
            start_ = await ws.until("state_replay_start")
            assert start_["pending_request_id"] == prompt["request_id"]
            replayed = await ws.until("state_replay_complete")
            assert replayed["last_seq"] == prompt["seq"]
            seqs = [m["seq"] for m in ws.received if "seq" in m]
            assert seqs == list(range(3, prompt["seq"] + 1))  # exactly what it missed
            r = await client.post(
                f"/tasks/{sid}/answer", json={"request_id": prompt["request_id"], "value": False}
            )
            assert r.status_code == 200, r.text
            await ws.until("task_completed")
            live = [m["seq"] for m in ws.received if "seq" in m]
            assert live == list(range(3, live[-1] + 1))  # no gap, no duplicate


async def test_a_cancel_on_the_web_node_stops_the_task_on_the_worker(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.web.url, timeout=10) as client:
        sid = await start(client, "block", seconds=60)
        async with await WS.open(pair.web.ws_url, sid) as ws:
            await ws.until("stream")  # it runs on the worker
            r = await client.delete(f"/tasks/{sid}")
            assert r.status_code == 200, r.text
            await ws.until("task_cancelled")
        assert (await client.get(f"/tasks/{sid}")).json()["status"] == "cancelled"
        assert sid not in pair.worker.manager.active


async def test_hardware_is_the_workers(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.web.url, timeout=10) as client:
        view = (await client.get("/hardware")).json()
        assert view["controller"] == "simulated"
        [worker] = view["workers"]
        assert worker["controller"] == "simulated"
        assert {a["id"] for a in worker["axes"]} >= {"x", "y"}
        report = (await client.post("/hardware/stop")).json()
        assert set(report["stopped"]) >= {"x", "y"}  # the worker's axes


async def test_a_motion_task_is_checked_against_the_workers_controller(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.web.url, timeout=10) as client:
        r = await client.post(
            "/tasks",
            json={
                "task_type": "axis_movement",
                "parameters": {"axis": "x", "mode": "absolute", "target": 10**9},
            },
        )
        assert r.status_code == 422, r.text
        assert r.json()["detail"][0]["loc"] == ["body", "parameters", "target"]
        sid = await start(client, "axis_movement", axis="x", mode="relative", distance=5)
        async with await WS.open(pair.web.ws_url, sid) as ws:
            prompt = await ws.until("request_confirmation")
            assert prompt["kind"] == "hazard"
            await ws.send({"type": "confirm", "request_id": prompt["request_id"], "value": True})
            await ws.until("task_completed")
        view = (await client.get("/hardware")).json()
        [x] = [a for a in view["workers"][0]["axes"] if a["id"] == "x"]
        assert x["position"] == pytest.approx(5)


async def test_an_input_file_uploaded_to_the_web_node_reaches_the_worker(pair: Pair) -> None:
    async with httpx.AsyncClient(base_url=pair.web.url, timeout=10) as client:
        r = await client.post(
            "/uploads", files={"file": ("path.csv", b"x, y\n0,0\n10,-5\n", "text/csv")}
        )
        assert r.status_code == 201, r.text
        upload_id = r.json()["upload_id"]
        worker_uploads = pair.worker.app.state.uploads
        assert not worker_uploads.path(upload_id).exists()  # each node has its own folder
        sid = await start(client, "csv_scan", positions=upload_id, speed=5000.0)
        async with await WS.open(pair.web.ws_url, sid) as ws:
            prompt = await ws.until("request_confirmation")
            assert prompt["details"]["file"] == "path.csv"
            await ws.send({"type": "confirm", "request_id": prompt["request_id"], "value": True})
            end = await ws.until("task_completed")
        assert end["result"]["points"] == 2
        assert worker_uploads.path(upload_id).read_bytes() == b"x, y\n0,0\n10,-5\n"


async def test_a_worker_that_lost_its_lease_stops_its_tasks(tmp_path: Path) -> None:
    with (
        redis_prefix() as prefix,
        run_server(
            tmp_path / "worker",
            registry=make_registry(),
            redis_url=URL,
            redis_prefix=prefix,
            worker_lease=1.5,
        ) as worker,
    ):
        async with httpx.AsyncClient(base_url=worker.url, timeout=10) as client:
            sid = await start(client, "block", seconds=60)
            async with await WS.open(worker.ws_url, sid) as ws:
                await ws.until("stream")
                node = worker.manager.cluster
                assert node is not None
                # As if the worker had been held up past its lease and reaped meanwhile.
                await asyncio.wrap_future(
                    asyncio.run_coroutine_threadsafe(
                        node.coordinator.redis.zrem(node.coordinator.key("leases"), node.id),
                        worker.loop,
                    )
                )
                end = await ws.until("task_interrupted")
            assert end["reason"] == "worker lost"
            assert (await client.get(f"/tasks/{sid}")).json()["status"] == "interrupted"
            # It took a new lease: it runs tasks again.
            again = await start(client, "confirm_once")
            async with await WS.open(worker.ws_url, again) as ws:
                await ws.until("request_confirmation")


async def test_a_task_abandoned_half_way_through_its_submission_fails_and_never_runs(
    pair: Pair,
) -> None:
    node = pair.web.manager.cluster
    assert node is not None
    record = TaskRecord(
        task_id="half-way",
        task_type="confirm_once",
        parameters={},
        status="pending",
        created_at=datetime.now(UTC),
    )

    async def stopped_half_way() -> list[str]:
        # What POST /tasks had done when its node died: admitted, stored, never ready.
        await node.coordinator.admit(
            "half-way", "confirm_once", frozenset(), queue=False, max_concurrent=4, max_queued=9
        )
        await node.manager.store.write(WriteBatch(tasks=[record]))
        found = await node.coordinator.abandoned(0)
        for task_id in found:
            await node._abandoned(task_id)
        return found

    done = asyncio.run_coroutine_threadsafe(stopped_half_way(), pair.web.loop)
    assert await asyncio.wrap_future(done) == ["half-way"]
    async with httpx.AsyncClient(base_url=pair.worker.url, timeout=10) as client:
        task = (await client.get("/tasks/half-way")).json()
    assert task["status"] == "failed"
    assert "stopped before it was queued" in task["error"]
    assert "half-way" not in pair.worker.manager.sessions or (
        pair.worker.manager.sessions["half-way"].runner is None
    )


async def test_stop_on_disconnect_counts_the_tabs_of_every_node(tmp_path: Path) -> None:
    settings: dict[str, Any] = {
        "redis_url": URL,
        "stop_on_disconnect": True,
        "stop_on_disconnect_grace": 0.3,
    }
    with (
        redis_prefix() as prefix,
        run_server(
            tmp_path / "worker", registry=make_registry(), redis_prefix=prefix, **settings
        ) as worker,
        run_server(
            tmp_path / "web",
            registry=make_registry(),
            redis_prefix=prefix,
            worker=False,
            **settings,
        ) as web,
    ):
        async with httpx.AsyncClient(base_url=web.url, timeout=10) as client:
            sid = await start(client, "axis_movement", axis="x", distance=5000.0, speed=500.0)
            async with await WS.open(web.ws_url, sid) as ws:  # the only tab: on the web node
                prompt = await ws.until("request_confirmation")
                await ws.send(
                    {"type": "confirm", "request_id": prompt["request_id"], "value": True}
                )
                await ws.until("progress")
                # Three grace periods with the tab open on the other node: it keeps moving.
                await asyncio.sleep(0.9)
                assert (await client.get(f"/tasks/{sid}")).json()["status"] == "running"
                assert worker.manager.watchers(sid) == 0  # none on the worker itself
            async with asyncio.timeout(5):
                while (await client.get(f"/tasks/{sid}")).json()["status"] == "running":
                    await asyncio.sleep(0.05)
            async with await WS.open(web.ws_url, sid) as tab:
                end = await tab.until("task_cancelled")
        assert end["reason"] == "operator disconnected"
