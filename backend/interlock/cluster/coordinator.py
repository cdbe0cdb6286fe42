"""Who runs what across every instance sharing a Redis prefix: slots, queue, workers, leases.

Every key is hash-tagged ``{cluster}`` (one Redis Cluster slot), every change is one
``WATCH``/``MULTI`` transaction on ``Pcluster:version``: the decisions are made in Python by
the same rules as on one server (``interlock.admission``) and committed only if nothing
changed meanwhile, else made again. The state::

    P{cluster}:version   string  bumped by every change (what the transactions watch)
    P{cluster}:order     string  counter: a task's place in line
    P{cluster}:info      hash    task id -> {type, resources, order} of a task not yet ended
    P{cluster}:slots     hash    task id -> worker id ("" = admitted, no worker took it yet)
    P{cluster}:holders   hash    task id -> resources, for slot holders that need some
    P{cluster}:admitted  zset    admitted tasks no worker took yet, by order
    P{cluster}:queue     zset    tasks waiting for a slot or a resource, by order
    P{cluster}:workers   hash    worker id -> {id, host, pid, task_types, controller, axes}
    P{cluster}:leases    zset    worker id -> lease expiry (ms, Redis's clock)

A task holds a slot from its admission until it ends, so ``INTERLOCK_MAX_CONCURRENT`` and
resource exclusion hold across the cluster. A worker takes an admitted task it can run, or
promotes a queued one when the rules let it start. A worker renews its lease; ``reap`` (any
instance) ends the lease of one that stopped and hands back its tasks, to be ended
``interrupted`` — never run again: a hardware step must not repeat.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from redis.exceptions import WatchError

from .. import admission
from ..exceptions import CapacityExceeded, QueueFull

T = TypeVar("T")

#: Queued or admitted tasks a worker looks at per claim (the oldest first).
CLAIM_WINDOW = 200


@dataclass(frozen=True)
class Slot:
    """A task as admission sees it."""

    id: str
    resources: frozenset[str]


@dataclass(frozen=True)
class WorkerInfo:
    """A worker as the cluster knows it (``P{cluster}:workers``)."""

    id: str
    host: str = ""
    pid: int = 0
    task_types: list[str] = field(default_factory=list)  # empty: every type
    controller: str | None = None
    axes: list[dict[str, Any]] = field(default_factory=list)

    def runs(self, task_type: str, needs_controller: bool) -> bool:
        if self.task_types and task_type not in self.task_types:
            return False
        return self.controller is not None or not needs_controller

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, raw: bytes | str) -> WorkerInfo:
        d = json.loads(raw)
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}" if self.host else self.id


@dataclass(frozen=True)
class Lost:
    """A task whose worker lost its lease: to be ended ``interrupted``."""

    task_id: str
    worker: WorkerInfo
    resources: list[str]


def needs_controller(resources: Iterable[str]) -> bool:
    """Whether a task holding ``resources`` drives the hardware (a controller or axes)."""
    return any(r == "controller" or r == "axis" or r.startswith("axis:") for r in resources)


class Coordinator:
    """The cluster state under ``prefix`` on the client ``redis`` (redis-py asyncio)."""

    def __init__(self, redis: Any, prefix: str) -> None:
        self.redis = redis
        self.prefix = prefix

    def key(self, what: str) -> str:
        return f"{self.prefix}{{cluster}}:{what}"

    @property
    def wake_channel(self) -> str:
        """Published when a task may be taken: workers then try to claim."""
        return self.key("wake")

    async def _transaction(self, body: Callable[[Any], Awaitable[T]]) -> T:
        """Run ``body(pipe)`` (reads, then ``pipe.multi()`` and writes) until no other
        change came between its reads and its writes."""
        while True:
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    await pipe.watch(self.key("version"))
                    result = await body(pipe)
                    pipe.incr(self.key("version"))
                    await pipe.execute()
                    return result
                except WatchError:
                    continue

    async def _now_ms(self) -> int:
        seconds, micros = await self.redis.time()
        return int(seconds) * 1000 + int(micros) // 1000

    # ------------------------------------------------------------------- workers

    async def live_workers(self) -> list[WorkerInfo]:
        now = await self._now_ms()
        ids = await self.redis.zrangebyscore(self.key("leases"), now, "+inf")
        if not ids:
            return []
        raw = await self.redis.hmget(self.key("workers"), ids)
        return [WorkerInfo.from_json(r) for r in raw if r is not None]

    async def worker(self, worker_id: str) -> WorkerInfo | None:
        raw = await self.redis.hget(self.key("workers"), worker_id)
        return WorkerInfo.from_json(raw) if raw is not None else None

    async def renew(self, info: WorkerInfo, lease: float, *, first: bool = False) -> bool:
        """Register or renew ``info``'s lease for ``lease`` seconds. False when the lease
        was lost (reaped) meanwhile: its tasks are no longer this worker's."""
        now = await self._now_ms()
        if not first and await self.redis.zscore(self.key("leases"), info.id) is None:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key("workers"), info.id, info.to_json())
            pipe.zadd(self.key("leases"), {info.id: now + int(lease * 1000)})
            pipe.publish(self.wake_channel, b"worker")
            await pipe.execute()
        return True

    async def leave(self, worker_id: str) -> None:
        """A worker that stops cleanly (its tasks ended already)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.key("leases"), worker_id)
            pipe.hdel(self.key("workers"), worker_id)
            await pipe.execute()

    async def reap(self) -> list[Lost]:
        """End the leases that expired; the tasks their workers held, to be interrupted."""
        now = await self._now_ms()
        expired = await self.redis.zrangebyscore(self.key("leases"), "-inf", f"({now}")
        if not expired:
            return []
        lost: list[Lost] = []
        for raw_id in expired:
            worker_id = raw_id.decode()

            async def body(pipe: Any, worker_id: str = worker_id) -> list[Lost]:
                score = await pipe.zscore(self.key("leases"), worker_id)
                if score is None or score >= now:
                    pipe.multi()
                    return []  # renewed or reaped meanwhile
                raw_info = await pipe.hget(self.key("workers"), worker_id)
                info = WorkerInfo.from_json(raw_info) if raw_info else WorkerInfo(worker_id)
                slots = await pipe.hgetall(self.key("slots"))
                mine = [t.decode() for t, w in slots.items() if w.decode() == worker_id]
                infos = await pipe.hmget(self.key("info"), mine) if mine else []
                pipe.multi()
                pipe.zrem(self.key("leases"), worker_id)
                pipe.hdel(self.key("workers"), worker_id)
                out = []
                for tid, raw in zip(mine, infos, strict=True):
                    resources = json.loads(raw)["resources"] if raw else []
                    out.append(Lost(tid, info, resources))
                    self._forget(pipe, tid)
                if mine:
                    pipe.publish(self.wake_channel, b"freed")
                return out

            lost += await self._transaction(body)
        return lost

    # --------------------------------------------------------------------- tasks

    async def admit(
        self,
        task_id: str,
        task_type: str,
        resources: frozenset[str],
        *,
        queue: bool,
        max_concurrent: int,
        max_queued: int,
    ) -> str | None:
        """Take a new task: it starts as soon as a worker takes it, or it queues. Returns
        why it waits (None: admitted now), or raises ``CapacityExceeded`` (no slot or a
        resource held, and ``queue`` is false) or ``QueueFull``."""
        controller = needs_controller(resources)
        alive = await self.live_workers()
        workers = [w for w in alive if w.runs(task_type, controller)]

        async def body(pipe: Any) -> str | None:
            slots = await pipe.hlen(self.key("slots"))
            holders = await self._holders(pipe) if resources else []
            queued = await pipe.zcard(self.key("queue"))
            ahead = None
            if resources and queued:
                ahead = admission.queued_ahead(resources, await self._queued(pipe))
            blocker = admission.blocker(resources, holders, max_concurrent)
            if blocker is None and slots >= max_concurrent:
                blocker = Slot("", frozenset())
            waits = blocker is not None or ahead is not None or not workers
            if blocker is not None and not queue and workers:
                raise CapacityExceeded(blocker.id or await self._some_slot(pipe))
            if waits and queued >= max_queued:
                raise QueueFull(max_queued)
            order = await pipe.incr(self.key("order"))
            pipe.multi()
            info = {
                "type": task_type,
                "resources": sorted(resources),
                "order": order,
                "ready": False,  # until its record is stored (``ready``)
            }
            pipe.hset(self.key("info"), task_id, json.dumps(info))
            if waits:
                pipe.zadd(self.key("queue"), {task_id: order})
            else:
                pipe.hset(self.key("slots"), task_id, "")
                if resources:
                    pipe.hset(self.key("holders"), task_id, json.dumps(sorted(resources)))
                pipe.zadd(self.key("admitted"), {task_id: order})
            if not workers:
                return _nobody(task_type, controller, bool(alive))
            return "waiting for a slot" if waits else None

        return await self._transaction(body)

    async def claim(self, worker: WorkerInfo, max_concurrent: int) -> str | None:
        """One task for ``worker``: the oldest admitted one it can run, else a queued one
        the rules let start now (in line: no passing a task that needs the same thing)."""

        async def body(pipe: Any) -> str | None:
            admitted = await pipe.zrange(self.key("admitted"), 0, CLAIM_WINDOW - 1)
            infos = await pipe.hmget(self.key("info"), admitted) if admitted else []
            for tid, raw in zip(admitted, infos, strict=True):
                info = json.loads(raw) if raw else None
                if info is not None and info["ready"] and worker.runs(info["type"], _needs(info)):
                    pipe.multi()
                    pipe.hset(self.key("slots"), tid, worker.id)
                    pipe.zrem(self.key("admitted"), tid)
                    return str(tid.decode())
            queued = await pipe.zrange(self.key("queue"), 0, CLAIM_WINDOW - 1)
            if not queued:
                pipe.multi()
                return None
            slots = await pipe.hlen(self.key("slots"))
            holders = await self._holders(pipe)
            infos = await pipe.hmget(self.key("info"), queued)
            reserved: frozenset[str] = frozenset()
            for tid, raw in zip(queued, infos, strict=True):
                info = json.loads(raw) if raw else {"type": "", "resources": []}
                needs = frozenset(info["resources"])
                if not info.get("ready") or not worker.runs(info["type"], _needs(info)):
                    continue  # not stored yet, or another worker's: blocks nobody here
                free = slots < max_concurrent and admission.blocker(needs, holders, 10**9) is None
                if free and not admission.resources_overlap(reserved, needs):
                    pipe.multi()
                    pipe.zrem(self.key("queue"), tid)
                    pipe.hset(self.key("slots"), tid, worker.id)
                    if needs:
                        pipe.hset(self.key("holders"), tid, json.dumps(sorted(needs)))
                    return str(tid.decode())
                reserved |= needs
            pipe.multi()
            return None

        return await self._transaction(body)

    async def ready(self, task_id: str) -> None:
        """The task's record is stored: workers may take it now."""

        async def body(pipe: Any) -> None:
            raw = await pipe.hget(self.key("info"), task_id)
            pipe.multi()
            if raw is not None:
                pipe.hset(self.key("info"), task_id, json.dumps({**json.loads(raw), "ready": True}))
                pipe.publish(self.wake_channel, b"task")

        await self._transaction(body)

    async def release(self, task_id: str) -> None:
        """The task ended: its slot, resources and place are free."""

        async def body(pipe: Any) -> None:
            pipe.multi()
            self._forget(pipe, task_id)
            pipe.publish(self.wake_channel, b"freed")

        await self._transaction(body)

    async def withdraw(self, task_id: str) -> bool:
        """Take a task no worker took yet out of line (it is being cancelled). False when
        a worker runs it (cancel it there) or it is unknown."""

        async def body(pipe: Any) -> bool:
            queued = await pipe.zscore(self.key("queue"), task_id)
            admitted = await pipe.zscore(self.key("admitted"), task_id)
            pipe.multi()
            if queued is None and admitted is None:
                return False
            self._forget(pipe, task_id)
            pipe.publish(self.wake_channel, b"freed")
            return True

        return await self._transaction(body)

    async def owner(self, task_id: str) -> str | None:
        """The id of the worker running the task, or None (not taken, or ended)."""
        raw = await self.redis.hget(self.key("slots"), task_id)
        return raw.decode() if raw else None

    async def waiting(self, task_id: str) -> tuple[int | None, str | None]:
        """A task not taken yet: its place in the queue (None: admitted, not queued) and
        why no worker took it (None: one will)."""
        raw = await self.redis.hget(self.key("info"), task_id)
        if raw is None or await self.owner(task_id) is not None:
            return None, None
        info = json.loads(raw)
        rank = await self.redis.zrank(self.key("queue"), task_id)
        controller = _needs(info)
        workers = await self.live_workers()
        why = None
        if not any(w.runs(info["type"], controller) for w in workers):
            why = _nobody(info["type"], controller, bool(workers))
        elif rank is not None:
            why = "waiting for a slot or a resource another task holds"
        return (rank + 1 if rank is not None else None), why

    def _forget(self, pipe: Any, task_id: str) -> None:
        for what in ("info", "slots", "holders"):
            pipe.hdel(self.key(what), task_id)
        pipe.zrem(self.key("queue"), task_id)
        pipe.zrem(self.key("admitted"), task_id)

    async def _holders(self, pipe: Any) -> list[Slot]:
        raw = await pipe.hgetall(self.key("holders"))
        return [Slot(t.decode(), frozenset(json.loads(r))) for t, r in raw.items()]

    async def _queued(self, pipe: Any) -> list[Slot]:
        ids = await pipe.zrange(self.key("queue"), 0, -1)
        infos = await pipe.hmget(self.key("info"), ids) if ids else []
        return [
            Slot(t.decode(), frozenset(json.loads(r)["resources"]))
            for t, r in zip(ids, infos, strict=True)
            if r is not None
        ]

    async def _some_slot(self, pipe: Any) -> str:
        for tid, _ in (await pipe.hgetall(self.key("slots"))).items():
            return str(tid.decode())
        return ""


def _needs(info: dict[str, Any]) -> bool:
    return needs_controller(info.get("resources", ()))


def _nobody(task_type: str, controller: bool, any_worker: bool = True) -> str:
    if not any_worker:
        return "no worker is running: start one (interlock worker, or interlock serve)"
    if controller:
        return f"no worker that owns a controller runs task type {task_type!r}"
    return f"no worker runs task type {task_type!r} (see their --task-types)"


def this_host() -> tuple[str, int]:
    return socket.gethostname(), os.getpid()
