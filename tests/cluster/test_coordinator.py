"""The cluster's shared line in Redis: slots, resources, queue order, workers and leases,
checked against the machine's Redis under a prefix of each test's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from interlock.cluster.coordinator import Coordinator, Lost, WorkerInfo
from interlock.exceptions import CapacityExceeded, QueueFull
from tests.support.redis import URL, redis_prefix

ANY = WorkerInfo("any", controller="simulated")
PLAIN = WorkerInfo("plain", task_types=["plain"])  # no controller, one task type


@pytest.fixture
async def coord() -> AsyncIterator[Coordinator]:
    with redis_prefix() as prefix:
        client = aioredis.Redis.from_url(URL)
        try:
            yield Coordinator(client, prefix)
        finally:
            await client.aclose()


async def admit(
    c: Coordinator,
    tid: str,
    *resources: str,
    task_type: str = "plain",
    queue: bool = False,
    max_concurrent: int = 1,
    max_queued: int = 10,
) -> str | None:
    why = await c.admit(
        tid,
        task_type,
        frozenset(resources),
        queue=queue,
        max_concurrent=max_concurrent,
        max_queued=max_queued,
    )
    await c.ready(tid)
    return why


async def test_a_slot_is_held_from_admission_across_every_instance(coord: Coordinator) -> None:
    await coord.renew(ANY, 10, first=True)
    assert await admit(coord, "t1") is None
    with pytest.raises(CapacityExceeded):
        await admit(coord, "t2")  # the slot is t1's though no worker took it yet
    assert await admit(coord, "t2", queue=True) is not None
    assert await coord.claim(ANY, 1) == "t1"
    assert await coord.claim(ANY, 1) is None  # t2 waits for the slot
    await coord.release("t1")
    assert await coord.claim(ANY, 1) == "t2"
    assert await coord.owner("t2") == "any"


async def test_resources_exclude_and_the_line_is_kept(coord: Coordinator) -> None:
    await coord.renew(ANY, 10, first=True)
    assert await admit(coord, "x1", "axis:x", max_concurrent=5) is None
    assert await coord.claim(ANY, 5) == "x1"
    with pytest.raises(CapacityExceeded):
        await admit(coord, "all", "axis", max_concurrent=5)  # axis covers axis:x
    assert await admit(coord, "all", "axis", queue=True, max_concurrent=5) is not None
    # y is free, but the task that needs every axis queued first: y waits its turn.
    assert await admit(coord, "y1", "axis:y", queue=True, max_concurrent=5) is not None
    assert await coord.claim(ANY, 5) is None
    await coord.release("x1")
    assert await coord.claim(ANY, 5) == "all"
    assert await coord.claim(ANY, 5) is None
    await coord.release("all")
    assert await coord.claim(ANY, 5) == "y1"


async def test_a_task_nobody_can_run_waits_and_says_why(coord: Coordinator) -> None:
    why = await admit(coord, "m1", "controller", task_type="motion")
    assert why is not None and "no worker is running" in why
    await coord.renew(PLAIN, 10, first=True)
    place, reason = await coord.waiting("m1")
    assert place == 1
    assert reason is not None and "owns a controller" in reason
    assert await coord.claim(PLAIN, 1) is None  # it needs a controller this worker lacks
    await coord.renew(ANY, 10, first=True)
    assert (await coord.waiting("m1"))[1] is not None  # waits for a slot only now
    assert await coord.claim(ANY, 1) == "m1"
    assert await coord.waiting("m1") == (None, None)


async def test_task_types_choose_the_worker(coord: Coordinator) -> None:
    await coord.renew(PLAIN, 10, first=True)
    why = await admit(coord, "o1", task_type="other", max_concurrent=3)
    assert why is not None and "'other'" in why
    assert await coord.claim(PLAIN, 3) is None
    assert await admit(coord, "p1", max_concurrent=3) is None
    assert await coord.claim(PLAIN, 3) == "p1"


async def test_a_task_is_not_taken_before_it_is_stored(coord: Coordinator) -> None:
    await coord.renew(ANY, 10, first=True)
    await coord.admit("t1", "plain", frozenset(), queue=False, max_concurrent=1, max_queued=10)
    assert await coord.claim(ANY, 1) is None
    await coord.ready("t1")
    assert await coord.claim(ANY, 1) == "t1"


async def test_the_queue_is_bounded(coord: Coordinator) -> None:
    await coord.renew(ANY, 10, first=True)
    await admit(coord, "t0")
    await admit(coord, "t1", queue=True, max_queued=1)
    with pytest.raises(QueueFull):
        await admit(coord, "t2", queue=True, max_queued=1)


async def test_a_withdrawn_task_is_never_taken(coord: Coordinator) -> None:
    await coord.renew(ANY, 10, first=True)
    await admit(coord, "t1")
    assert await coord.withdraw("t1")
    assert await coord.claim(ANY, 1) is None
    assert not await coord.withdraw("t1")
    await admit(coord, "t2")
    assert await coord.claim(ANY, 1) == "t2"
    assert not await coord.withdraw("t2")  # a worker runs it: cancel it there


async def test_an_expired_lease_hands_back_its_tasks_once(coord: Coordinator) -> None:
    lost_worker = WorkerInfo("w1", host="bench", pid=7, controller="simulated")
    await coord.renew(lost_worker, 0.2, first=True)
    await admit(coord, "t1", "axis:x", max_concurrent=2)
    assert await coord.claim(lost_worker, 2) == "t1"
    assert await coord.reap() == []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 5
    lost: list[Lost] = []
    while not lost and loop.time() < deadline:
        await asyncio.sleep(0.05)
        lost = await coord.reap()
    assert [(x.task_id, x.worker.name, x.resources) for x in lost] == [
        ("t1", "bench:7", ["axis:x"])
    ]
    assert await coord.reap() == []
    assert not await coord.renew(lost_worker, 0.2)  # it learns that its lease is gone
    assert await coord.owner("t1") is None
    assert await coord.live_workers() == []


async def test_a_task_never_made_ready_is_abandoned_once_and_frees_its_slot(
    coord: Coordinator,
) -> None:
    await coord.renew(ANY, 10, first=True)
    await coord.admit("t1", "plain", frozenset(), queue=False, max_concurrent=1, max_queued=10)
    assert await coord.abandoned(60) == []  # not long enough ago
    assert await coord.abandoned(0) == ["t1"]
    assert await coord.abandoned(0) == []  # handed out once
    assert await admit(coord, "t2") is None  # its slot is free again
    assert await coord.abandoned(0) == []  # a ready task is never abandoned


async def test_a_task_its_worker_could_not_start_goes_back_for_any_worker(
    coord: Coordinator,
) -> None:
    other = WorkerInfo("other", controller="simulated")
    await coord.renew(ANY, 10, first=True)
    await admit(coord, "t1")
    assert await coord.claim(ANY, 1) == "t1"
    assert not await coord.unclaim("t1", "other")  # not that worker's
    assert await coord.unclaim("t1", "any")
    with pytest.raises(CapacityExceeded):
        await admit(coord, "t2")  # it kept its slot
    assert await coord.claim(other, 1) == "t1"
    assert await coord.owner("t1") == "other"
