"""Journal back-pressure without a server: a task that says more than the store takes waits
above ``HIGH_WATER`` and goes on once the store catches up, and nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from interlock.journal import HIGH_WATER, Journal
from interlock.runtime import TaskContext
from interlock.sessions import Session
from interlock.states import TaskStatus
from interlock.store import MemoryStore, TaskRecord, WriteBatch


class GatedStore(MemoryStore):
    """A store as slow as the test wants: each ``write`` waits at a gate until the test lets
    it through (``release``) or opens the gate for good (``open_gate``)."""

    def __init__(self) -> None:
        super().__init__()
        self.batch_sizes: list[int] = []
        self._arrived = asyncio.Condition()
        self._permits = asyncio.Semaphore(0)
        self._waiting = 0
        self._open = False

    async def write(self, batch: WriteBatch) -> None:
        self.batch_sizes.append(len(batch.messages))
        if not self._open:
            self._waiting += 1
            async with self._arrived:
                self._arrived.notify_all()
            await self._permits.acquire()
            self._waiting -= 1
        await super().write(batch)

    async def arrived(self, writes: int) -> None:
        """Return once the ``writes``-th write has reached the gate."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: len(self.batch_sizes) >= writes)

    def release(self) -> None:
        """Let one waiting write through."""
        self._permits.release()

    def open_gate(self) -> None:
        """Let every write through, now and from now on."""
        self._open = True
        for _ in range(self._waiting):
            self._permits.release()


class SlowStore(MemoryStore):
    """A store that takes ``lag`` turns of the event loop for every write."""

    def __init__(self, lag: int) -> None:
        super().__init__()
        self.lag = lag
        self.batch_sizes: list[int] = []

    async def write(self, batch: WriteBatch) -> None:
        self.batch_sizes.append(len(batch.messages))
        await turns(self.lag)
        await super().write(batch)


class Lines(BaseModel):
    pass


class Producer:
    """A task's session and context, streaming ``count`` lines; ``said`` counts them."""

    def __init__(self, journal: Journal, name: str) -> None:
        record = TaskRecord(name, "chatty", {}, TaskStatus.RUNNING, datetime.now(UTC))
        self.session = Session(record, journal, history_size=10 * HIGH_WATER)  # no trimming
        self.ctx = TaskContext(self.session, Lines())
        self.said = 0

    async def stream(self, count: int) -> None:
        for i in range(count):
            await self.ctx.stream(f"line {i}")
            self.said += 1


Delivered = list[tuple[str, int]]


@pytest.fixture
def store() -> GatedStore:
    return GatedStore()


@pytest.fixture
def delivered() -> Delivered:
    """(session id, seq) of every message the journal handed on, in order."""
    return []


@pytest.fixture
async def journal(store: GatedStore, delivered: Delivered) -> AsyncIterator[Journal]:
    journal = Journal(store, lambda session, seq, _type, _data: delivered.append((session.id, seq)))
    journal.start()
    yield journal
    store.open_gate()
    await journal.stop()


async def turns(n: int = 50) -> None:
    """Give every other task on the loop ``n`` chances to run (no wall-clock wait)."""
    for _ in range(n):
        await asyncio.sleep(0)


async def stored_seqs(store: MemoryStore, session_id: str) -> list[int]:
    return [m.seq for m in await store.load_messages(session_id)]


async def test_a_producer_waits_above_high_water_while_the_store_is_slow(
    store: GatedStore, journal: Journal, delivered: Delivered
) -> None:
    producer = Producer(journal, "fast")
    streaming = asyncio.create_task(producer.stream(3 * HIGH_WATER))
    await store.arrived(1)
    held_at = producer.said
    assert HIGH_WATER <= held_at <= HIGH_WATER + 1, held_at
    await turns()
    assert producer.said == held_at, "the producer went on while the store was stuck"
    assert not streaming.done()

    store.release()  # that batch is written: the producer goes on, up to the mark again
    await store.arrived(2)
    await turns()
    assert held_at < producer.said <= 2 * (HIGH_WATER + 1)
    assert not streaming.done()

    store.open_gate()
    await streaming
    await journal.sync()
    expected = list(range(1, 3 * HIGH_WATER + 1))
    assert await stored_seqs(store, "fast") == expected
    assert delivered == [("fast", seq) for seq in expected]


async def test_no_batch_is_bigger_than_the_mark_however_far_behind_the_store() -> None:
    store = SlowStore(lag=100)
    journal = Journal(store, lambda session, seq, type_, data: None)
    journal.start()
    try:
        producer = Producer(journal, "fast")
        await producer.stream(5 * HIGH_WATER)
        await journal.sync()
    finally:
        await journal.stop()
    assert max(store.batch_sizes) <= HIGH_WATER + 1, store.batch_sizes
    assert sum(store.batch_sizes) == 5 * HIGH_WATER
    seqs = [m.seq for m in await store.load_messages("fast")]
    assert seqs == list(range(1, 5 * HIGH_WATER + 1))


async def test_every_waiting_producer_resumes_and_loses_nothing(
    store: GatedStore, journal: Journal, delivered: Delivered
) -> None:
    producers = [Producer(journal, f"task-{i}") for i in range(3)]
    streams = [asyncio.create_task(p.stream(2 * HIGH_WATER)) for p in producers]
    await store.arrived(1)
    await turns()
    assert not any(s.done() for s in streams)
    assert sum(p.said for p in producers) <= HIGH_WATER + len(producers)

    store.open_gate()
    await asyncio.gather(*streams)
    await journal.sync()
    expected = list(range(1, 2 * HIGH_WATER + 1))
    for p in producers:
        assert await stored_seqs(store, p.session.id) == expected
        assert [seq for sid, seq in delivered if sid == p.session.id] == expected


async def test_below_the_mark_a_producer_never_waits_for_the_store(
    store: GatedStore, journal: Journal
) -> None:
    producer = Producer(journal, "calm")
    await producer.stream(HIGH_WATER)  # the store has not written a thing meanwhile
    assert producer.said == HIGH_WATER
    assert await stored_seqs(store, "calm") == []
    store.open_gate()
    await journal.sync()
    assert await stored_seqs(store, "calm") == list(range(1, HIGH_WATER + 1))
