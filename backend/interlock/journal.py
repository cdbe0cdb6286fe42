"""Group commit: collect what sessions emit, write it in one transaction, then broadcast.

Nothing reaches a WebSocket before it is in the store. While one batch is being written,
the next accumulates, so a chatty task costs one transaction per batch, not per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from .bus import EventBus
from .store import Artifact, RequestRecord, Store, StoredMessage, WriteBatch

if TYPE_CHECKING:
    from .sessions import Session

log = logging.getLogger("interlock.journal")

#: Pending messages above which an emitting task is made to wait for a flush.
HIGH_WATER = 2048
#: Messages published between two yields to the event loop.
PUBLISH_CHUNK = 256


class Journal:
    """Buffers writes, flushes them in batches on a background task, then publishes."""

    def __init__(self, store: Store, bus: EventBus) -> None:
        self.store = store
        self.bus = bus
        self._batch = WriteBatch()
        self._published: list[tuple[Session, int, str]] = []
        self._dirty: dict[str, Session] = {}
        self._wake = asyncio.Event()
        self._flushed = asyncio.Condition()
        self._appended = 0
        self._done = 0
        self._runner: asyncio.Task[None] | None = None
        self.batches = 0

    def start(self) -> None:
        self._runner = asyncio.create_task(self._loop(), name="interlock-journal")

    async def stop(self) -> None:
        await self.sync()
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None

    # ---------------------------------------------------------------- called by sessions

    def append(self, session: Session, seq: int, type_: str, data: str) -> None:
        self._batch.messages.append(StoredMessage(session.id, seq, type_, data))
        self._published.append((session, seq, data))
        self._dirty[session.id] = session
        self._kick()

    def touch(self, session: Session) -> None:
        """The session's task record changed; write its snapshot with the next batch."""
        self._dirty[session.id] = session
        self._kick()

    def put_request(self, record: RequestRecord) -> None:
        self._batch.requests.append(record)
        self._kick()

    def put_artifact(self, artifact: Artifact) -> None:
        self._batch.artifacts.append(artifact)
        self._kick()

    def trim(self, session_id: str, cut: int, keep: int | None) -> None:
        self._batch.trims[session_id] = (cut, keep)

    async def sync(self) -> None:
        """Wait until everything handed over so far is written and published."""
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
            batch, published = self._batch, self._published
            batch.tasks = [s.snapshot() for s in self._dirty.values()]
            self._batch, self._published, self._dirty = WriteBatch(), [], {}
            await self._write(batch)
            for start in range(0, len(published), PUBLISH_CHUNK):
                if start:
                    # Let every tab's sender move what it has into its socket before the
                    # next chunk: a burst larger than a tab's queue must not drop fast tabs.
                    await asyncio.sleep(0)
                for session, seq, data in published[start : start + PUBLISH_CHUNK]:
                    session.published_seq = seq
                    self.bus.publish(session.id, data)
            self.batches += 1
            self._done = target
            async with self._flushed:
                self._flushed.notify_all()

    async def _write(self, batch: WriteBatch) -> None:
        delay = 0.05
        while True:
            try:
                await self.store.write(batch)
                return
            except Exception:
                # Losing history silently is worse than stalling: retry until the store heals.
                log.exception("store write failed; retrying in %.2fs", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
