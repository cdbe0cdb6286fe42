"""Session history: trimming, replay and reload from the store agree, whatever happens."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic_core import PydanticSerializationError

from interlock import protocol as p
from interlock.journal import Journal
from interlock.sessions import Session
from interlock.states import ResolveReason, TaskStatus
from interlock.store import MemoryStore, TaskRecord

SIZE = 4  # small, so trimming happens in almost every example

# An operation: stream a line, try to emit something that cannot be serialized, open a
# confirmation, or resolve the open one.
ops = st.lists(
    st.sampled_from(["stream", "stream", "stream", "bad", "ask", "resolve"]), max_size=40
)


async def play(steps: list[str], since_values: list[int]) -> None:
    store = MemoryStore()
    journal = Journal(store, lambda session, seq, _type, _data: session.published(seq))
    journal.start()
    record = TaskRecord("s", "t", {}, TaskStatus.PENDING, datetime.now(UTC))
    session = Session(record, journal, SIZE)
    session.set_status(TaskStatus.RUNNING)
    emitted = [session.last_seq]
    for step in steps:
        if step == "stream":
            emitted.append(session.emit(p.Stream(content="x")))
        elif step == "bad":
            # Raises inside the task that tried it, and costs no seq.
            with pytest.raises(PydanticSerializationError):
                session.emit(p.Progress(progress=1, details={"x": object()}))
        elif step == "ask" and session.pending is None:
            first = session.last_seq + 1  # the status change, then the request
            session.open_request(p.RequestConfirmation(request_id="", prompt="ok?"), None)
            emitted += range(first, session.last_seq + 1)
        elif step == "resolve" and session.pending is not None:
            first = session.last_seq + 1
            session.resolve(ResolveReason.ANSWERED, p.Answerer(), value=True)
            emitted += range(first, session.last_seq + 1)
    await journal.sync()
    stored = await store.load_messages("s")
    # As the manager reloads a session: the newest window, and the open request's message.
    open_seq = session.pending.seq if session.pending is not None else None
    window = (await store.read_messages("s", limit=SIZE, newest=True)).messages
    pinned = [m for m in stored if m.seq == open_seq]
    reloaded = Session(session.snapshot(), journal, SIZE)
    reloaded.load_history(pinned + window, open_seq)
    await journal.stop()

    assert emitted == list(range(1, session.last_seq + 1)), "a seq was skipped or reused"
    kept = [seq for seq, _ in session.history]
    assert len(kept) <= SIZE + 1 and kept == sorted(kept)
    assert [m.seq for m in stored] == emitted, "the store keeps the whole log, not the window"
    assert reloaded.history == session.history, "reloaded window differs from the live one"
    if session.pending is not None:
        assert session.pending.seq in kept, "the open request was trimmed"
    for since in since_values:
        items, truncated = session.replay(since)
        again, truncated_again = reloaded.replay(since)
        assert items == again and truncated == truncated_again
        seqs = [json.loads(i)["seq"] for i in items]
        wanted = list(range(since + 1, session.last_seq + 1))
        assert seqs == [s for s in wanted if s in kept]
        assert truncated == (seqs != wanted), (since, seqs, truncated)


@settings(max_examples=300, deadline=None)
@given(steps=ops, since_values=st.lists(st.integers(0, 45), min_size=1, max_size=8))
# A request pinned while lines stream past it leaves a hole behind it.
@example(steps=["stream"] * 3 + ["ask"] + ["stream"] * 15, since_values=[6])
@example(steps=["stream", "bad", "stream", "ask", "bad", "resolve", "stream"], since_values=[0])
def test_trimmed_history_replays_the_same_live_and_after_reload(
    steps: list[str], since_values: list[int]
) -> None:
    asyncio.run(play(steps, since_values))


async def test_the_store_keeps_the_log_up_to_its_limit_and_the_open_request_beyond() -> None:
    store = MemoryStore()
    journal = Journal(store, lambda session, seq, _type, _data: session.published(seq))
    journal.start()
    record = TaskRecord("s", "t", {}, TaskStatus.PENDING, datetime.now(UTC))
    session = Session(record, journal, SIZE, log_max=10)
    session.set_status(TaskStatus.RUNNING)  # seq 1
    session.open_request(p.RequestConfirmation(request_id="", prompt="ok?"), None)  # 2, 3
    for _ in range(30):
        session.emit(p.Stream(content="x"))  # 4 … 33
    await journal.stop()
    page = await store.read_messages("s", limit=100)
    assert [m.seq for m in page.messages] == [3, *range(24, 34)]  # 10 newest + the prompt
    assert (page.first_seq, page.last_seq) == (3, 33)
    assert [seq for seq, _ in session.history] == [3, 31, 32, 33]  # the replay window
