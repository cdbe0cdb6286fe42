"""Redis ``Store``: the shared store of several instances (``INTERLOCK_REDIS_URL``).

redis-py's asyncio client, so no call blocks the event loop. The layout (a stream per
session, hashes for tasks and requests, indexes) is in ``redis_layout.py``.

Atomicity: every session's part of a batch is one Lua script (applied whole or not at
all); a batch's checks (no seq twice, none at or below a stored one) all run before any
part is sent, so a batch that breaks them writes nothing. Parts of different sessions are
sent in one round trip but are separate scripts (a Redis Cluster runs each in its own
slot): a connection lost half-way may leave some applied. Retrying the *same* batch object
is then safe: its messages already stored are skipped, everything else is an overwrite.

Durability is Redis's: with ``appendonly yes`` and ``appendfsync always`` a restart keeps
everything acknowledged; with ``everysec`` a crash may lose the last seconds; without the
append-only file a restart loses what was written since the last snapshot
(docs/architecture.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ..exceptions import StoreError, StoreUnavailable
from .base import (
    TERMINAL_STATUSES,
    Artifact,
    MessagePage,
    RequestRecord,
    Store,
    StoredMessage,
    TaskFilter,
    TaskRecord,
    WriteBatch,
)
from .redis_layout import (
    STATUSES,
    WRITE_SESSION,
    Keys,
    request_from_json,
    request_json,
    score,
    task_fields,
    task_from_hash,
    task_json,
    tasks_from_json,
)

log = logging.getLogger("interlock.store")

#: Redis replies that may heal: it is loading its data, cannot persist, is a replica, is full.
_TRANSIENT = ("LOADING", "MISCONF", "READONLY", "OOM", "BUSY", "TRYAGAIN", "CLUSTERDOWN")


def connect(url: str, timeout: float) -> Any:
    """A client that never retries by itself (a retried script could apply twice; the
    journal retries whole batches) and gives up on a dead socket within ``timeout``. Typed
    ``Any``: redis-py's annotations cannot tell that its replies are bytes."""
    return aioredis.Redis.from_url(
        url,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
        health_check_interval=30,
    )


def classify(exc: RedisError, where: str) -> StoreError:
    """``StoreUnavailable`` for what may heal (connection, timeout, loading, persistence
    failing), else ``StoreError``."""
    if isinstance(exc, RedisConnectionError | RedisTimeoutError):
        return StoreUnavailable(f"Redis at {where} is unreachable: {exc}")
    text = str(exc)
    if isinstance(exc, ResponseError) and text.startswith(_TRANSIENT):
        return StoreUnavailable(f"Redis at {where} cannot take writes now: {text}")
    if "DUPSEQ" in text:
        return StoreError(f"a message was refused by Redis at {where}: {text.split('DUPSEQ')[1]}")
    return StoreError(f"Redis at {where} refused the call: {text}")


@asynccontextmanager
async def bounded(where: str, timeout: float) -> AsyncIterator[None]:
    """A call to the Redis at ``where``: ``StoreUnavailable`` after ``timeout`` seconds,
    its errors as ``classify`` says."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except TimeoutError as exc:
        raise StoreUnavailable(f"Redis at {where} did not answer within {timeout:g} s") from exc
    except RedisError as exc:
        raise classify(exc, where) from exc


class RedisStore(Store):
    """A ``Store`` in Redis under ``prefix``; every call bounded by ``timeout`` seconds."""

    def __init__(self, url: str, *, prefix: str = "interlock:", timeout: float = 5.0) -> None:
        self.url = url
        self.keys = Keys(prefix)
        self.timeout = timeout
        self.redis: Any = connect(url, timeout)
        self._where = self.redis.get_connection_kwargs().get("host", url)
        self._script = self.redis.register_script(WRITE_SESSION)
        self._uncertain: WriteBatch | None = None  # a batch whose write may have applied

    def _call(self) -> AbstractAsyncContextManager[None]:
        return bounded(self._where, self.timeout)

    async def open(self) -> None:
        async with self._call():
            await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    # ---------------------------------------------------------------------------- write

    async def write(self, batch: WriteBatch) -> None:
        retry = batch is self._uncertain
        parts = batch.split()
        _check_order(parts)
        try:
            async with self._call():
                if not retry:
                    await self._check_stored(parts)
                async with self.redis.pipeline(transaction=False) as pipe:
                    for sid, part in parts.items():
                        await self._script(
                            self.keys.of_session(sid), _script_args(part, retry), client=pipe
                        )
                    self._index(pipe, batch.tasks)
                    self._uncertain = batch
                    await pipe.execute()
        except StoreUnavailable:
            raise
        except StoreError:
            self._uncertain = None
            raise
        self._uncertain = None

    async def _check_stored(self, parts: dict[str, WriteBatch]) -> None:
        with_messages = [sid for sid, part in parts.items() if part.messages]
        if not with_messages:
            return
        stored = await self.redis.mget([self.keys.session(s, "seq") for s in with_messages])
        for sid, last in zip(with_messages, stored, strict=True):
            first = parts[sid].messages[0].seq
            if last is not None and first <= int(last):
                raise StoreError(
                    f"a message was refused by Redis at {self._where}: seq {first} of "
                    f"session {sid} is stored already"
                )

    def _index(self, pipe: Any, tasks: Iterable[TaskRecord]) -> None:
        last = {t.task_id: t for t in tasks}  # a batch may snapshot a task twice: the last wins
        for sid, t in last.items():
            created = score(t.created_at)
            pipe.zadd(self.keys.tasks, {sid: created})
            pipe.hset(self.keys.records, sid, task_json(t))
            pipe.zadd(self.keys.status(t.status), {sid: created})
            for other in STATUSES:
                if other != t.status:
                    pipe.zrem(self.keys.status(other), sid)
            if t.created_by is not None:
                pipe.zadd(self.keys.by(t.created_by), {sid: created})
            if t.status in TERMINAL_STATUSES and t.completed_at is not None:
                pipe.zadd(self.keys.finished, {sid: score(t.completed_at)})

    # ----------------------------------------------------------------------------- read

    async def get_task(self, task_id: str) -> TaskRecord | None:
        async with self._call():
            h = await self.redis.hgetall(self.keys.session(task_id, "task"))
        return task_from_hash(h) if h else None

    async def _tasks(self, ids: list[bytes]) -> list[TaskRecord]:
        """The records of ``ids``, in order (the unknown left out): one HMGET of
        ``Precords``; a record missing there (written before it existed) from its hash."""
        if not ids:
            return []
        found = await self.redis.hmget(self.keys.records, ids)
        missing = [sid for sid, raw in zip(ids, found, strict=True) if raw is None]
        hashes: dict[bytes, TaskRecord] = {}
        if missing:
            async with self.redis.pipeline(transaction=False) as pipe:
                for sid in missing:
                    pipe.hgetall(self.keys.session(sid.decode(), "task"))
                for sid, h in zip(missing, await pipe.execute(), strict=True):
                    if h:
                        hashes[sid] = task_from_hash(h)
        parsed = iter(tasks_from_json([raw for raw in found if raw is not None]))
        out = []
        for sid, raw in zip(ids, found, strict=True):
            if raw is not None:
                out.append(next(parsed))
            elif sid in hashes:
                out.append(hashes[sid])
        return out

    async def list_tasks(
        self,
        *,
        status: str | None = None,
        created_by: str | None = None,
        limit: int = 100,
        offset: int = 0,
        where: TaskFilter | None = None,
    ) -> list[TaskRecord]:
        more = where or TaskFilter()
        index = (
            self.keys.by(created_by)
            if created_by is not None
            else self.keys.status(status)
            if status is not None
            else self.keys.tasks
        )
        # The index's scores (created_at) narrow the range; a little wider than asked, as
        # a float timestamp may round: every record read is then checked exactly.
        top = "+inf" if more.created_before is None else score(more.created_before) + 1e-3
        bottom = "-inf" if more.created_after is None else score(more.created_after) - 1e-3
        out: list[TaskRecord] = []
        skip = offset
        page, start = min(max(limit + offset, 50), 1000), 0
        if limit <= 0:
            return out
        async with self._call():
            while len(out) < limit:
                ids = await self.redis.zrevrangebyscore(index, top, bottom, start=start, num=page)
                for t in await self._tasks(ids):
                    if (
                        (status is None or t.status == status)
                        and (created_by is None or t.created_by == created_by)
                        and more.selects(t)
                    ):
                        if skip:
                            skip -= 1
                        elif len(out) < limit:
                            out.append(t)
                if len(ids) < page:
                    break
                start += page
        return out

    async def unfinished_tasks(self) -> list[TaskRecord]:
        live = [s for s in STATUSES if s not in TERMINAL_STATUSES]
        async with self._call():
            ids: list[bytes] = []
            for status in live:
                ids += await self.redis.zrange(self.keys.status(status), 0, -1)
            tasks = await self._tasks(ids)
        return sorted(
            (t for t in tasks if t.status not in TERMINAL_STATUSES), key=lambda t: t.created_at
        )

    async def load_messages(self, session_id: str) -> list[StoredMessage]:
        async with self._call():
            entries = await self.redis.xrange(self.keys.session(session_id, "log"))
        return _messages(session_id, entries)

    async def read_messages(
        self,
        session_id: str,
        *,
        after_seq: int = 0,
        before_seq: int | None = None,
        limit: int = 1000,
        newest: bool = False,
    ) -> MessagePage:
        key = self.keys.session(session_id, "log")
        low = f"({after_seq}-0" if after_seq > 0 else "-"
        high = "+" if before_seq is None else f"({before_seq}-0"
        empty = before_seq is not None and before_seq <= max(after_seq, 0) + 1
        async with self._call(), self.redis.pipeline(transaction=False) as pipe:
            if limit > 0 and not empty:
                if newest:
                    pipe.xrevrange(key, high, low, count=limit)
                else:
                    pipe.xrange(key, low, high, count=limit)
            pipe.xrange(key, "-", "+", count=1)
            pipe.xrevrange(key, "+", "-", count=1)
            *chosen, first, last = await pipe.execute()
        entries = chosen[0] if chosen else []
        if newest:
            entries = entries[::-1]
        return MessagePage(
            _messages(session_id, entries),
            _seq(first[0][0]) if first else 0,
            _seq(last[0][0]) if last else 0,
        )

    async def get_requests(self, session_id: str) -> list[RequestRecord]:
        async with self._call():
            raw = await self.redis.hvals(self.keys.session(session_id, "requests"))
        return sorted((request_from_json(r) for r in raw), key=lambda r: r.seq)

    async def get_artifact(self, task_id: str, name: str) -> Artifact | None:
        async with self._call(), self.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.keys.session(task_id, "files"), name)
            pipe.hget(self.keys.session(task_id, "filedata"), name)
            content_type, data = await pipe.execute()
        if content_type is None:
            return None
        return Artifact(task_id, name, content_type.decode(), bytes(data or b""))

    async def list_artifacts(self, task_id: str) -> list[tuple[str, str]]:
        async with self._call():
            h = await self.redis.hgetall(self.keys.session(task_id, "files"))
        return sorted((k.decode(), v.decode()) for k, v in h.items())

    async def prune(self, finished_before: datetime) -> int:
        async with self._call():
            ids = await self.redis.zrangebyscore(
                self.keys.finished, "-inf", f"({score(finished_before)}"
            )
            doomed = [t for t in await self._tasks(ids) if t.status in TERMINAL_STATUSES]
            async with self.redis.pipeline(transaction=False) as pipe:
                for t in doomed:
                    pipe.unlink(*self.keys.of_session(t.task_id))
                    pipe.hdel(self.keys.records, t.task_id)
                    indexes = [self.keys.tasks, self.keys.finished]
                    for index in indexes + [self.keys.status(s) for s in STATUSES]:
                        pipe.zrem(index, t.task_id)
                    if t.created_by is not None:
                        pipe.zrem(self.keys.by(t.created_by), t.task_id)
                await pipe.execute()
        return len(doomed)


def _seq(entry_id: bytes) -> int:
    return int(entry_id.split(b"-")[0])


def _messages(session_id: str, entries: list[Any]) -> list[StoredMessage]:
    return [
        StoredMessage(session_id, _seq(eid), f[b"t"].decode(), f[b"d"].decode())
        for eid, f in entries
    ]


def _check_order(parts: dict[str, WriteBatch]) -> None:
    """Refuse, before anything is sent, a batch that has a session's seq twice or out of
    order (the script checks again, atomically, against what is stored)."""
    for sid, part in parts.items():
        prev = 0
        for m in part.messages:
            if m.seq <= prev:
                raise StoreError(f"seq {m.seq} of session {sid} appears twice or out of order")
            prev = m.seq


def _script_args(part: WriteBatch, retry: bool) -> list[Any]:
    args: list[Any] = ["1" if retry else "0", len(part.messages)]
    for m in part.messages:
        args += [m.seq, m.type, m.data]
    fields = task_fields(part.tasks[-1]) if part.tasks else []
    args += [len(fields) // 2, *fields, len(part.requests)]
    for r in part.requests:
        args += [r.request_id, request_json(r)]
    args.append(len(part.artifacts))
    for a in part.artifacts:
        args += [a.name, a.content_type, a.data]
    cut, keep = next(iter(part.trims.values()), (0, None))
    return [*args, cut, -1 if keep is None else keep]
