"""Group commit: collect what sessions emit, write it in one transaction, then hand it on.

Nothing reaches a WebSocket before it is in the store. While one batch is being written,
the next accumulates, so a chatty task costs one transaction per batch, not per message.

When the store fails the journal neither loses nor invents anything:

* a transient failure (``StoreUnavailable``: locked, disk full, read-only, I/O) keeps the
  batch and retries it with backoff; meanwhile ``degraded`` names the reason (``/health``
  reports it) and ``write_through`` refuses at once;
* a permanent failure (``StoreError``: a constraint, a damaged database) is narrowed down to
  the sessions whose part of the batch cannot be written; those are handed to
  ``on_session_lost`` and their later writes are dropped, the other sessions go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .exceptions import StoreError, StoreUnavailable
from .store import Artifact, RequestRecord, Store, StoredMessage, TaskRecord, WriteBatch

if TYPE_CHECKING:
    from .sessions import Session

log = logging.getLogger("interlock.journal")

#: Pending messages above which an emitting task is made to wait for a flush.
HIGH_WATER = 2048
#: Messages handed on between two yields to the event loop.
PUBLISH_CHUNK = 256
#: Backoff between retries of a batch the store refused for a transient reason.
RETRY_FIRST, RETRY_MAX = 0.05, 2.0

#: ``deliver(session, seq, type, data)``: a message is committed; show it to the world.
Deliver = Callable[["Session", int, str, str], None]
#: ``on_commit(seconds)``: a batch was written (with its retries, if the store refused it).
Committed = Callable[[float], None]
#: ``on_session_lost(session_id, error)``: the store can never take this session's writes.
SessionLost = Callable[[str, StoreError], None]


class Journal:
    """Buffers writes, flushes them in batches on a background task, then delivers them."""

    def __init__(
        self,
        store: Store,
        deliver: Deliver,
        on_session_lost: SessionLost | None = None,
    ) -> None:
        self.store = store
        self._deliver = deliver
        self._on_session_lost = on_session_lost
        self._batch = WriteBatch()
        self._published: list[tuple[Session, int, str, str]] = []
        self._dirty: dict[str, Session] = {}
        self._lost: set[str] = set()
        self._through: list[_Through] = []
        self._wake = asyncio.Event()
        self._flushed = asyncio.Condition()
        self._appended = 0
        self._done = 0
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0
        #: Why the store is refusing writes right now, or None while it takes them.
        self.degraded: str | None = None
        #: Told how long each batch took to commit (``interlock.metrics``).
        self.on_commit: Committed | None = None

    def start(self) -> None:
        self._runner = asyncio.create_task(self._loop(), name="interlock-journal")

    async def stop(self) -> None:
        """Write everything handed over, then stop the background task."""
        await self.sync()
        await self.abort()

    async def abort(self) -> None:
        """Stop the background task now; what is not written yet stays unwritten."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None

    @property
    def unwritten(self) -> int:
        """Messages handed over and not yet written."""
        return len(self._batch.messages)

    # ---------------------------------------------------------------- called by sessions

    def append(self, session: Session, seq: int, type_: str, data: str) -> None:
        if session.id in self._lost:
            return
        self._batch.messages.append(StoredMessage(session.id, seq, type_, data))
        self._published.append((session, seq, type_, data))
        self._dirty[session.id] = session
        self._kick()

    def touch(self, session: Session) -> None:
        """The session's task record changed; write its snapshot with the next batch."""
        if session.id in self._lost:
            return
        self._dirty[session.id] = session
        self._kick()

    def put_request(self, record: RequestRecord) -> None:
        if record.session_id in self._lost:
            return
        self._batch.requests.append(record)
        self._kick()

    def put_artifact(self, artifact: Artifact) -> None:
        if artifact.task_id in self._lost:
            return
        self._batch.artifacts.append(artifact)
        self._kick()

    def trim(self, session_id: str, cut: int, keep: int | None) -> None:
        self._batch.trims[session_id] = (cut, keep)

    async def write_through(
        self, *, tasks: Sequence[TaskRecord] = (), requests: Sequence[RequestRecord] = ()
    ) -> None:
        """Write these records with the next batch and return once they are committed.

        For what must be stored before anyone acts on it (a new task, a person's answer).
        If the store is failing, or fails this batch, the records are taken back out of the
        batch before any retry, so they are either committed or not written at all, and
        ``StoreUnavailable`` (or ``StoreError``) is raised.
        """
        if self.degraded is not None:
            raise StoreUnavailable(f"the store is unavailable: {self.degraded}")
        entry = _Through([*tasks, *requests], asyncio.get_running_loop().create_future())
        self._batch.tasks.extend(tasks)
        self._batch.requests.extend(requests)
        self._through.append(entry)
        self._kick()
        error = await asyncio.shield(entry.outcome)
        if error is None:
            return
        if isinstance(error, StoreError):
            raise error
        raise StoreUnavailable(f"{type(error).__name__}: {error}") from error

    async def sync(self) -> None:
        """Wait until everything handed over so far is written and delivered."""
        target = self._appended
        if self._done >= target:
            return
        async with self._flushed:
            await self._flushed.wait_for(lambda: self._done >= target)

    async def backpressure(self) -> None:
        """Let a fast producer wait while too much is unwritten."""
        if len(self._published) > HIGH_WATER:
            await self.sync()

    # ---------------------------------------------------------------------------- loop

    def _kick(self) -> None:
        self._appended += 1
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            target = self._appended
            batch, published, through = self._batch, self._published, self._through
            batch.tasks.extend(s.snapshot() for s in self._dirty.values())
            self._batch, self._published, self._dirty, self._through = WriteBatch(), [], {}, []
            started = time.perf_counter()
            await self._write(batch, through)
            if self.on_commit is not None:
                self.on_commit(time.perf_counter() - started)
            await self._hand_on([m for m in published if m[0].id not in self._lost])
            self.batches += 1
            self._done = target
            async with self._flushed:
                self._flushed.notify_all()

    async def _hand_on(self, published: list[tuple[Session, int, str, str]]) -> None:
        for start in range(0, len(published), PUBLISH_CHUNK):
            if start:
                # Let every tab's sender move what it has into its socket before the
                # next chunk: a burst larger than a tab's queue must not drop fast tabs.
                await asyncio.sleep(0)
            for session, seq, type_, data in published[start : start + PUBLISH_CHUNK]:
                self._deliver(session, seq, type_, data)

    async def _write(self, batch: WriteBatch, through: list[_Through]) -> None:
        """Write ``batch`` until it is in the store or every part that cannot be is dropped.

        ``through`` are the ``write_through`` records in it: the first failure settles them
        and takes them out, so a retry never writes what a caller was told was refused."""
        delay = RETRY_FIRST
        lost: dict[str, StoreError] = {}
        while batch:
            try:
                await self._attempt(batch, lost)
                break
            except StoreUnavailable as exc:
                self._set_degraded(str(exc))
                failure: BaseException = exc
            except Exception as exc:  # a store that breaks its contract: do not lose anything
                log.exception("store write raised an unexpected error")
                self._set_degraded(f"{type(exc).__name__}: {exc}")
                failure = exc
            for entry in through:
                if not entry.outcome.done():
                    entry.outcome.set_result(failure)
                    batch.discard(entry.records)
            log.warning("store write failed (%s); retrying in %.2fs", failure, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)
        if self.degraded is not None:
            log.warning("store available again")
            self.degraded = None
        for entry in through:
            if not entry.outcome.done():
                error = next((lost[s] for s in entry.session_ids() if s in lost), None)
                entry.outcome.set_result(error)

    async def _attempt(self, batch: WriteBatch, lost: dict[str, StoreError]) -> None:
        """One try. A permanent error narrows the batch down to the sessions that cannot be
        written, loses those (into ``lost``) and writes the rest; the batch is empty
        afterwards unless a transient error (re-raised) interrupted it."""
        try:
            await self.store.write(batch)
        except StoreUnavailable:
            raise
        except StoreError:
            for session_id, part in batch.split().items():
                try:
                    await self.store.write(part)
                except StoreUnavailable:
                    raise
                except StoreError as exc:
                    lost[session_id] = exc
                    self._lose(session_id, exc)
                batch.drop(session_id)
            return
        batch.clear()

    def _lose(self, session_id: str, error: StoreError) -> None:
        log.error("session %s can no longer be stored: %s", session_id, error)
        self._lost.add(session_id)
        if self._on_session_lost is not None:
            try:
                self._on_session_lost(session_id, error)
            except Exception:
                log.exception("handling the lost session %s failed", session_id)

    def _set_degraded(self, reason: str) -> None:
        if self.degraded is None:
            log.error("store unavailable: %s", reason)
        self.degraded = reason


@dataclass(eq=False)
class _Through:
    """Records a ``write_through`` caller waits for, and how their batch ended."""

    records: list[TaskRecord | RequestRecord]
    outcome: asyncio.Future[BaseException | None]

    def session_ids(self) -> set[str]:
        return {r.task_id if isinstance(r, TaskRecord) else r.session_id for r in self.records}
