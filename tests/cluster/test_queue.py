"""The shared queue: which process runs what, the cluster-wide slot limit, and why a task
waits. In-process servers (and, for ``interlock worker``'s flags, subprocesses) on the
machine's Redis, each test under a prefix of its own."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.cluster import cluster, submit, until_status
from tests.support.redis import URL, redis_prefix
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS

QUICK = {"duration": 0, "steps": 1}


@pytest.fixture
def prefix() -> Iterator[str]:
    with redis_prefix(URL) as fresh:
        yield fresh


def instance(
    tmp_path: Path, name: str, prefix: str, **settings: Any
) -> AbstractContextManager[LiveServer]:
    """A server on the shared prefix (``worker=False``: HTTP/WS only)."""
    return run_server(
        tmp_path / name, registry=make_registry(), redis_url=URL, redis_prefix=prefix, **settings
    )


async def queued_reason(http: httpx.AsyncClient, task_id: str) -> str:
    task = (await http.get(f"/tasks/{task_id}")).json()
    assert task["status"] == "queued", task
    reason = task["queued_reason"]
    assert isinstance(reason, str) and reason.strip(), task
    # The list says the same of it as its own route.
    [listed] = [t for t in (await http.get("/tasks?limit=100")).json() if t["task_id"] == task_id]
    assert (listed["queue_position"], listed["queued_reason"]) == (
        task["queue_position"],
        reason,
    )
    return reason


async def completes(ws_url: str, task_id: str) -> dict[str, Any]:
    async with await WS.open(ws_url, task_id) as tab:
        return await tab.until("task_completed")


async def test_with_no_worker_a_task_stays_queued_with_a_reason_until_one_starts(
    tmp_path: Path, prefix: str
) -> None:
    with instance(tmp_path, "a", prefix, worker=False) as a:
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            created = await submit(http, "dummy_short", queue=True, **QUICK)
            assert created["status"] == "queued"
            await queued_reason(http, created["task_id"])
            with instance(tmp_path, "w", prefix, worker=True):
                done = await completes(a.ws_url, created["task_id"])
    assert done["result"]["steps"] == 1


async def test_task_types_restrict_what_a_worker_runs(tmp_path: Path, prefix: str) -> None:
    with (
        instance(tmp_path, "a", prefix, worker=False, max_concurrent=4) as a,
        instance(tmp_path, "w1", prefix, worker=True, task_types=["dummy_short"], max_concurrent=4),
    ):
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            blocked = (await submit(http, "block", queue=True, seconds=60))["task_id"]
            quick = (await submit(http, "dummy_short", queue=True, **QUICK))["task_id"]
            await completes(a.ws_url, quick)  # w1 takes what it runs...
            await queued_reason(http, blocked)  # ...and leaves the rest, whose reason says why
            with instance(
                tmp_path, "w2", prefix, worker=True, task_types=["block"], max_concurrent=4
            ):
                await until_status(a.ws_url, blocked, "running")
                r = await http.delete(f"/tasks/{blocked}")
                assert r.status_code == 200, r.text


async def test_a_motion_task_stays_queued_while_no_worker_owns_a_controller(
    tmp_path: Path, prefix: str
) -> None:
    with (
        instance(tmp_path, "a", prefix, worker=False) as a,
        instance(tmp_path, "w", prefix, worker=True, controller="none"),
    ):
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            move = (await submit(http, "axis_movement", queue=True, axis="x", distance=1.0))[
                "task_id"
            ]
            quick = (await submit(http, "dummy_short", queue=True, **QUICK))["task_id"]
            await completes(a.ws_url, quick)
            await queued_reason(http, move)
            r = await http.delete(f"/tasks/{move}")
            assert r.status_code == 200, r.text


async def test_max_concurrent_counts_every_instance_and_a_queued_task_runs_after(
    tmp_path: Path, prefix: str
) -> None:
    with (
        instance(tmp_path, "a", prefix, worker=True, max_concurrent=1) as a,
        instance(tmp_path, "b", prefix, worker=True, max_concurrent=1) as b,
    ):
        async with (
            httpx.AsyncClient(base_url=a.url, timeout=10) as http_a,
            httpx.AsyncClient(base_url=b.url, timeout=10) as http_b,
        ):
            first = (await submit(http_a, "block", seconds=60))["task_id"]
            await until_status(b.ws_url, first, "running")
            r = await http_b.post("/tasks", json={"task_type": "block"})
            assert r.status_code == 409, r.text
            second = await submit(http_b, "dummy_short", queue=True, **QUICK)
            assert second["status"] == "queued" and second["queue_position"] == 1
            async with await WS.open(a.ws_url, second["task_id"]) as tab:
                r = await http_b.delete(f"/tasks/{first}")
                assert r.status_code == 200, r.text
                await tab.until("task_completed")
            assert (await http_a.get(f"/tasks/{first}")).json()["status"] == "cancelled"


async def test_worker_flags_task_types_and_controller_none_decide_what_it_takes(
    tmp_path: Path, prefix: str
) -> None:
    """The same through ``interlock worker``'s own flags, in subprocesses."""
    with cluster(tmp_path, URL, prefix, instances=1, workers=0) as nodes:
        (a,) = nodes.servers
        nodes.add_worker("--task-types", "confirm_many,axis_movement", "--controller", "none")
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            lines = (await submit(http, "paced_lines", queue=True, count=3, pause=0))["task_id"]
            move = (await submit(http, "axis_movement", queue=True, axis="x", distance=1.0))[
                "task_id"
            ]
            asks = (await submit(http, "confirm_many", queue=True))["task_id"]
            async with await WS.open(a.ws_url, asks) as tab:
                prompt = await tab.until("request_confirmation")
                await tab.send(
                    {"type": "confirm", "value": True, "request_id": prompt["request_id"]}
                )
                await tab.until("task_completed")
            await queued_reason(http, lines)  # not its type
            await queued_reason(http, move)  # its type, but it owns no controller
            nodes.add_worker("--task-types", "paced_lines", "--controller", "none")
            assert (await completes(a.ws_url, lines))["result"] == {"lines": 3}
            await queued_reason(http, move)
            r = await http.delete(f"/tasks/{move}")
            assert r.status_code == 200, r.text
