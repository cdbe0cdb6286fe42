"""One contract, every Store implementation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from interlock.exceptions import StoreError, StoreUnavailable
from interlock.store import (
    Artifact,
    MemoryStore,
    RequestRecord,
    SQLiteStore,
    Store,
    StoredMessage,
    TaskRecord,
    WriteBatch,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    s: Store = SQLiteStore(tmp_path / "s.sqlite3") if request.param == "sqlite" else MemoryStore()
    await s.open()
    yield s
    await s.close()


def task(task_id: str, status: str = "running", minutes: int = 0, **kw: Any) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        task_type="t",
        parameters={"a": 1},
        status=status,
        created_at=T0 + timedelta(minutes=minutes),
        **kw,
    )


def msgs(session: str, *seqs: int) -> list[StoredMessage]:
    return [StoredMessage(session, s, "stream", f'{{"seq":{s}}}') for s in seqs]


async def test_write_then_read_back_task_and_messages(store: Store) -> None:
    await store.write(
        WriteBatch(tasks=[task("a", result={"x": [1, 2]})], messages=msgs("a", 1, 2, 3))
    )
    got = await store.get_task("a")
    assert got is not None and got.parameters == {"a": 1} and got.result == {"x": [1, 2]}
    assert got.created_at == T0
    assert [m.seq for m in await store.load_messages("a")] == [1, 2, 3]
    assert (await store.load_messages("a"))[0].data == '{"seq":1}'
    assert await store.get_task("missing") is None


async def test_task_upsert_replaces(store: Store) -> None:
    await store.write(WriteBatch(tasks=[task("a")]))
    await store.write(WriteBatch(tasks=[task("a", status="completed", last_seq=9)]))
    got = await store.get_task("a")
    assert got is not None and got.status == "completed" and got.last_seq == 9


async def test_batch_is_atomic(store: Store) -> None:
    await store.write(WriteBatch(tasks=[task("a")], messages=msgs("a", 1)))
    with pytest.raises(StoreError) as err:  # seq 1 is stored already
        await store.write(WriteBatch(tasks=[task("b")], messages=msgs("a", 2, 1)))
    assert not isinstance(err.value, StoreUnavailable), "a duplicate seq never heals"
    assert await store.get_task("b") is None
    assert [m.seq for m in await store.load_messages("a")] == [1]


async def test_a_seq_twice_in_one_batch_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError):
        await store.write(WriteBatch(tasks=[task("a")], messages=msgs("a", 1, 2, 1)))
    assert await store.get_task("a") is None and await store.load_messages("a") == []


async def test_list_newest_first_filter_limit(store: Store) -> None:
    await store.write(
        WriteBatch(tasks=[task("a", minutes=1), task("b", "completed", 2), task("c", minutes=3)])
    )
    assert [t.task_id for t in await store.list_tasks()] == ["c", "b", "a"]
    assert [t.task_id for t in await store.list_tasks(status="running")] == ["c", "a"]
    assert [t.task_id for t in await store.list_tasks(limit=1)] == ["c"]
    assert [t.task_id for t in await store.unfinished_tasks()] == ["a", "c"]


async def test_the_audit_fields_are_kept_and_tasks_filter_by_who_created_them(
    store: Store,
) -> None:
    await store.write(
        WriteBatch(
            tasks=[
                task("a", minutes=1, created_by="ana", respondents=["ana", "ben"]),
                task("b", "cancelled", 2, created_by="ben", cancelled_by="ana"),
                task("c", minutes=3, created_by="ana"),
                task("d", minutes=4),  # with authentication off: nobody
            ]
        )
    )
    a, b, d = [await store.get_task(i) for i in "abd"]
    assert a is not None and a.respondents == ["ana", "ben"] and a.created_by == "ana"
    assert a.cancelled_by is None
    assert b is not None and b.cancelled_by == "ana" and b.respondents is None
    assert d is not None and d.created_by is None and d.respondents is None
    assert [t.task_id for t in await store.list_tasks(created_by="ana")] == ["c", "a"]
    assert [t.task_id for t in await store.list_tasks(created_by="ana", limit=1)] == ["c"]
    assert [t.task_id for t in await store.list_tasks(created_by="ben", status="running")] == []
    assert [t.task_id for t in await store.list_tasks(created_by="ben", status="cancelled")] == [
        "b"
    ]
    assert await store.list_tasks(created_by="nobody") == []


async def test_trim_keeps_the_pinned_request(store: Store) -> None:
    await store.write(WriteBatch(messages=msgs("a", *range(1, 11)), trims={"a": (8, 3)}))
    assert [m.seq for m in await store.load_messages("a")] == [3, 8, 9, 10]
    await store.write(WriteBatch(trims={"a": (9, None)}))
    assert [m.seq for m in await store.load_messages("a")] == [9, 10]


async def test_requests_and_artifacts(store: Store) -> None:
    req = RequestRecord("r1", "a", 4, "hazard", "Move?", {"details": {"axis": "x"}})
    await store.write(
        WriteBatch(requests=[req], artifacts=[Artifact("a", "p.csv", "text/csv", b"x,y\n")])
    )
    answered = RequestRecord(
        "r1",
        "a",
        4,
        "hazard",
        "Move?",
        {"details": {"axis": "x"}},
        status="answered",
        answer=True,
        answered_by={"client": "127.0.0.1:1"},
        resolved_at=T0,
    )
    await store.write(WriteBatch(requests=[answered]))
    [got] = await store.get_requests("a")
    assert got.status == "answered" and got.answer is True
    assert got.answered_by == {"client": "127.0.0.1:1"} and got.payload["details"]["axis"] == "x"
    assert await store.list_artifacts("a") == [("p.csv", "text/csv")]
    art = await store.get_artifact("a", "p.csv")
    assert art is not None and art.data == b"x,y\n"
    assert await store.get_artifact("a", "nope") is None


async def test_prune_removes_only_old_finished_tasks(store: Store) -> None:
    old = task("old", "completed", completed_at=T0)
    live = task("live", "running")
    fresh = task("fresh", "failed", completed_at=T0 + timedelta(days=10))
    await store.write(
        WriteBatch(
            tasks=[old, live, fresh],
            messages=msgs("old", 1),
            artifacts=[Artifact("old", "a", "text/csv", b"")],
        )
    )
    assert await store.prune(T0 + timedelta(days=1)) == 1
    assert await store.get_task("old") is None and await store.load_messages("old") == []
    assert await store.list_artifacts("old") == []
    assert await store.get_task("live") is not None and await store.get_task("fresh") is not None


@pytest.mark.parametrize(("durable", "level"), [(False, 1), (True, 2)])
async def test_sqlite_durability_setting(tmp_path: Path, durable: bool, level: int) -> None:
    store = SQLiteStore(tmp_path / "d.sqlite3", durable=durable)
    await store.open()
    try:
        mode = await store._call(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
        sync = await store._call(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
    finally:
        await store.close()
    assert mode == "wal" and sync == level  # 1 = NORMAL, 2 = FULL
