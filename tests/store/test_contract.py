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
    RedisStore,
    RequestRecord,
    SQLiteStore,
    Store,
    StoredMessage,
    TaskFilter,
    TaskRecord,
    WriteBatch,
)
from tests.support.redis import URL, redis_prefix

T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "memory", "redis"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "redis":
        with redis_prefix() as prefix:
            s: Store = RedisStore(URL, prefix=prefix)
            await s.open()
            yield s
            await s.close()
        return
    s = SQLiteStore(tmp_path / "s.sqlite3") if request.param == "sqlite" else MemoryStore()
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


async def test_read_messages_pages_forwards_and_backwards_with_the_log_bounds(
    store: Store,
) -> None:
    await store.write(WriteBatch(messages=msgs("a", *range(1, 11)) + msgs("b", 1)))

    async def seqs(**kw: Any) -> list[int]:
        return [m.seq for m in (await store.read_messages("a", **kw)).messages]

    assert await seqs() == list(range(1, 11))
    assert await seqs(after_seq=3, limit=4) == [4, 5, 6, 7]
    assert await seqs(after_seq=8, limit=4) == [9, 10]
    assert await seqs(after_seq=10) == []
    assert await seqs(before_seq=8, limit=3, newest=True) == [5, 6, 7]  # backwards
    assert await seqs(before_seq=3, limit=5, newest=True) == [1, 2]
    assert await seqs(after_seq=4, before_seq=8, limit=10, newest=True) == [5, 6, 7]
    assert await seqs(after_seq=4, before_seq=8, limit=2) == [5, 6]
    assert await seqs(after_seq=5, before_seq=5, limit=2) == []
    page = await store.read_messages("a", after_seq=2, limit=1)
    assert (page.first_seq, page.last_seq) == (1, 10)
    assert page.messages[0].data == '{"seq":3}' and page.messages[0].type == "stream"
    await store.write(WriteBatch(trims={"a": (6, None)}))
    page = await store.read_messages("a", limit=2)
    assert [m.seq for m in page.messages] == [6, 7] and (page.first_seq, page.last_seq) == (6, 10)
    unknown = await store.read_messages("nobody")
    assert (unknown.messages, unknown.first_seq, unknown.last_seq) == ([], 0, 0)


async def test_tasks_filter_by_type_text_and_date_and_page(store: Store) -> None:
    def typed(task_id: str, task_type: str, minutes: int, **kw: Any) -> TaskRecord:
        record = task(task_id, minutes=minutes, **kw)
        record.task_type = task_type
        return record

    await store.write(
        WriteBatch(
            tasks=[
                typed("a1", "scan", 1, message="Moving Axis X"),
                typed("b2", "move", 2, error="Limit switch hit"),
                typed("c3", "scan", 3),
                typed("d4", "scan", 4, created_by="ana"),
            ]
        )
    )
    c3 = await store.get_task("c3")
    assert c3 is not None
    c3.parameters = {"sample": "Quartz"}
    await store.write(WriteBatch(tasks=[c3]))

    async def ids(**kw: Any) -> list[str]:
        limit, offset = kw.pop("limit", 100), kw.pop("offset", 0)
        where = TaskFilter(**kw)
        return [t.task_id for t in await store.list_tasks(where=where, limit=limit, offset=offset)]

    assert await ids(task_type="scan") == ["d4", "c3", "a1"]
    assert await ids(text="axis x") == ["a1"]  # any case
    assert await ids(text="LIMIT") == ["b2"]
    assert await ids(text="quartz") == ["c3"]  # in the parameters
    assert await ids(text="ANA") == ["d4"]  # the creator
    assert await ids(text="b2") == ["b2"]  # the id
    assert await ids(text="nothing like it") == []
    minute = timedelta(minutes=1)
    assert await ids(created_after=T0 + 2 * minute) == ["d4", "c3", "b2"]  # inclusive
    assert await ids(created_before=T0 + 2 * minute) == ["a1"]  # exclusive
    assert await ids(created_after=T0 + 2 * minute, created_before=T0 + 4 * minute) == [
        "c3",
        "b2",
    ]
    assert await ids(task_type="scan", created_after=T0 + 2 * minute) == ["d4", "c3"]
    assert await ids(limit=2) == ["d4", "c3"]
    assert await ids(limit=2, offset=2) == ["b2", "a1"]
    assert await ids(limit=2, offset=4) == []
    got = await store.list_tasks(status="running", created_by="ana", where=TaskFilter(text="d"))
    assert [t.task_id for t in got] == ["d4"]


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
