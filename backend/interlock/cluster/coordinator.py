"""Who runs what across every instance sharing a Redis prefix: slots, queue, workers, leases.

Every key is hash-tagged ``{cluster}`` (one Redis Cluster slot). Admitting and claiming a
task are one Lua script each (``scripts.py``: one round trip, atomic, the rules of
``interlock.admission``); the rare reaping of a lost worker is a ``WATCH``/``MULTI``
transaction on ``version``, which every change bumps. The state::

    P{cluster}:version   string  bumped by every change (what ``reap`` watches)
    P{cluster}:order     string  counter: a task's place in line
    P{cluster}:info      hash    task id -> {type, resources} of a task not yet ended
    P{cluster}:slots     hash    task id -> worker id ("" = admitted, no worker took it yet)
    P{cluster}:holders   hash    task id -> resources, for slot holders that need some
    P{cluster}:admitted  zset    admitted tasks no worker took yet, by order
    P{cluster}:queue     zset    tasks waiting for a slot or a resource, by order
    P{cluster}:ready     set     tasks whose record is stored: only those may be taken
    P{cluster}:unready   zset    tasks admitted but not yet ready, by admission time (ms): one
                                 left there long was abandoned by a node that stopped
    P{cluster}:workers   hash    worker id -> {id, host, pid, task_types, controller, axes}
    P{cluster}:leases    zset    worker id -> lease expiry (ms, Redis's clock)
    P{cluster}:nodes     zset    node id (web or worker) -> when it stops counting as alive
                                 (ms): the tabs of a node that died are not counted

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

from ..exceptions import CapacityExceeded, QueueFull
from . import scripts

T = TypeVar("T")

#: Queued or admitted tasks a worker looks at per claim (the oldest first).
CLAIM_WINDOW = 200


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
        self._admit = redis.register_script(scripts.ADMIT)
        self._claim = redis.register_script(scripts.CLAIM)
        self._release = redis.register_script(scripts.RELEASE)
        self._withdraw = redis.register_script(scripts.WITHDRAW)
        self._unclaim = redis.register_script(scripts.UNCLAIM)

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

    async def leave(self, node_id: str) -> None:
        """A node that stops cleanly (a worker's tasks ended already)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self.key("leases"), node_id)
            pipe.hdel(self.key("workers"), node_id)
            pipe.zrem(self.key("nodes"), node_id)
            await pipe.execute()

    async def alive(self, node_id: str, lease: float) -> None:
        """This node (web or worker) is alive for ``lease`` seconds more: its tabs count."""
        now = await self._now_ms()
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.key("nodes"), {node_id: now + int(lease * 1000)})
            pipe.zremrangebyscore(self.key("nodes"), "-inf", now - 60_000)  # long gone
            await pipe.execute()

    async def alive_nodes(self, node_ids: list[str]) -> set[str]:
        """Those of ``node_ids`` whose liveness has not expired."""
        now = await self._now_ms()
        scores = await self.redis.zmscore(self.key("nodes"), node_ids)
        return {n for n, s in zip(node_ids, scores, strict=True) if s is not None and s >= now}

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
                if mine:
                    await self._release(keys=self._keys(), args=mine, client=pipe)
                    pipe.publish(self.wake_channel, b"freed")
                return out

            lost += await self._transaction(body)
        return lost

    # --------------------------------------------------------------------- tasks

    def _keys(self) -> list[str]:
        return [
            self.key(k)
            for k in (
                "info",
                "slots",
                "holders",
                "admitted",
                "queue",
                "ready",
                "order",
                "version",
                "workers",
                "leases",
                "unready",
            )
        ]

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
        resource held, and ``queue`` is false) or ``QueueFull``. Workers take it only once
        it is ``ready`` (stored). One round trip (``scripts.ADMIT``)."""
        needs = json.dumps(sorted(resources))
        info = json.dumps({"type": task_type, "resources": sorted(resources)})
        args = [task_id, task_type, info, needs, "1" if queue else "0"]
        reply = await self._admit(keys=self._keys(), args=[*args, max_concurrent, max_queued])
        verdict = reply[0].decode()
        if verdict == "capacity":
            raise CapacityExceeded(reply[1].decode())
        if verdict == "full":
            raise QueueFull(max_queued)
        waits, runnable, alive = (int(x) for x in reply[1:4])
        if not runnable:
            return _nobody(task_type, needs_controller(resources), alive > 0)
        return "waiting for a slot or a resource another task holds" if waits else None

    async def claim(self, worker: WorkerInfo, max_concurrent: int) -> str | None:
        """One task for ``worker``: the oldest admitted one it can run, else a queued one
        the rules let start now (in line: no passing a task that needs the same thing).
        One round trip (``scripts.CLAIM``)."""
        args = [
            worker.id,
            json.dumps(worker.task_types),
            "1" if worker.controller is not None else "0",
            max_concurrent,
            CLAIM_WINDOW,
        ]
        taken = await self._claim(keys=self._keys(), args=args)
        return taken.decode() if taken else None

    async def unclaim(self, task_id: str, worker_id: str) -> bool:
        """Put back in line a task ``worker_id`` claimed but could not start (it never
        ran): admitted again, ready, for any worker. False if it is not that worker's."""
        if not await self._unclaim(keys=self._keys(), args=[task_id, worker_id]):
            return False
        await self.redis.publish(self.wake_channel, b"task")
        return True

    async def ready(self, task_id: str) -> None:
        """The task's record is stored: workers may take it now."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.sadd(self.key("ready"), task_id)
            pipe.zrem(self.key("unready"), task_id)
            pipe.incr(self.key("version"))
            pipe.publish(self.wake_channel, b"task")
            await pipe.execute()

    async def release(self, *task_ids: str) -> None:
        """The tasks ended: their slots, resources and places are free."""
        if not task_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            await self._release(keys=self._keys(), args=list(task_ids), client=pipe)
            pipe.publish(self.wake_channel, b"freed")
            await pipe.execute()

    async def withdraw(self, task_id: str) -> bool:
        """Take a task no worker took yet out of line (it is being cancelled). False when
        a worker runs it (cancel it there) or it is unknown."""
        if not await self._withdraw(keys=self._keys(), args=[task_id]):
            return False
        await self.redis.publish(self.wake_channel, b"freed")
        return True

    async def abandoned(self, older_than: float) -> list[str]:
        """Tasks admitted more than ``older_than`` seconds ago and never made ``ready``: the
        node taking them stopped half-way. They are forgotten (their slots freed) and
        returned, for their records to be ended."""
        now = await self._now_ms()
        ids = await self.redis.zrangebyscore(
            self.key("unready"), "-inf", now - int(older_than * 1000)
        )
        if not ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for task_id in ids:
                pipe.zrem(self.key("unready"), task_id)
            removed = await pipe.execute()
        mine = [i.decode() for i, gone in zip(ids, removed, strict=True) if gone]  # once
        await self.release(*mine)
        return mine

    async def owner(self, task_id: str) -> str | None:
        """The id of the worker running the task, or None (not taken, or ended)."""
        raw = await self.redis.hget(self.key("slots"), task_id)
        return raw.decode() if raw else None

    async def waiting(self, task_id: str) -> tuple[int | None, str | None]:
        """A task not taken yet: its place in the queue (None: admitted, not queued) and
        why no worker took it (None: one will)."""
        return (await self.waiting_many([task_id]))[task_id]

    async def waiting_many(self, task_ids: list[str]) -> dict[str, tuple[int | None, str | None]]:
        """``waiting`` of several tasks, in two round trips and a look at the workers."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for task_id in task_ids:
                pipe.hget(self.key("info"), task_id)
                pipe.hget(self.key("slots"), task_id)
                pipe.zrank(self.key("queue"), task_id)
            replies = await pipe.execute()
        out: dict[str, tuple[int | None, str | None]] = {}
        workers: list[WorkerInfo] | None = None
        for index, task_id in enumerate(task_ids):
            raw, slot, rank = replies[3 * index : 3 * index + 3]
            if raw is None or slot:  # ended, or a worker runs it
                out[task_id] = (None, None)
                continue
            info = json.loads(raw)
            controller = _needs(info)
            if workers is None:
                workers = await self.live_workers()
            why = None
            if not any(w.runs(info["type"], controller) for w in workers):
                why = _nobody(info["type"], controller, bool(workers))
            elif rank is not None:
                why = "waiting for a slot or a resource another task holds"
            out[task_id] = ((rank + 1 if rank is not None else None), why)
        return out


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
