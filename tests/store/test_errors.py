"""SQLite failures, produced for real, reach callers as ``StoreUnavailable`` (may heal) or
``StoreError`` (never will), with the SQLite error as the cause and nothing half-written."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from interlock.exceptions import StoreError, StoreUnavailable
from interlock.store import Artifact, SQLiteStore, WriteBatch
from tests.store.test_contract import msgs, task
from tests.support.faults import locked_database, table_root_page, tmpfs, zero_page


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "s.sqlite3", timeout=1.0)
    await store.open()
    yield store
    await store.close()


def cause_name(exc: BaseException) -> str:
    cause = exc.__cause__
    assert isinstance(cause, sqlite3.Error), f"cause is {cause!r}"
    return cause.sqlite_errorname


def batch(task_id: str, *seqs: int) -> WriteBatch:
    return WriteBatch(tasks=[task(task_id)], messages=msgs(task_id, *seqs))


async def test_a_locked_database_fails_the_statement_within_the_store_timeout(
    tmp_path: Path,
) -> None:
    # The busy timeout (half the store timeout) ends the wait before the caller's timeout
    # would: the error names the lock, and the store thread is free again. A 3 s store
    # timeout leaves the thread 1.5 s to report it, however busy the machine.
    opened = SQLiteStore(tmp_path / "s.sqlite3", timeout=3.0)
    await opened.open()
    try:
        await _locked_then_free(opened)
    finally:
        await opened.close()


async def _locked_then_free(opened: SQLiteStore) -> None:
    with locked_database(opened.path):
        with pytest.raises(StoreUnavailable, match="is locked by another connection") as err:
            await opened.write(batch("a", 1))
        assert cause_name(err.value) == "SQLITE_BUSY"
        assert await opened.get_task("a") is None  # readers read through a writer (WAL)
    await opened.write(batch("a", 1))
    assert await opened.get_task("a") is not None


async def test_a_call_that_outlives_the_timeout_is_unavailable_and_applies_nothing(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3", timeout=0.2, busy_timeout=30)
    await store.open()
    try:
        with locked_database(store.path) as lock:
            with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.2 s"):
                await store.write(batch("a", 1))
            # The thread still waits for the lock: a read queued behind it is bounded too.
            with pytest.raises(StoreUnavailable, match="did not answer"):
                await store.get_task("a")
            lock.release()
        # The abandoned write got the lock after its caller gave up, and rolled back.
        assert await store.get_task("a") is None
        await store.write(batch("a", 1))
        assert [m.seq for m in await store.load_messages("a")] == [1]
    finally:
        await store.close()


async def test_a_constraint_failure_is_permanent_and_rolls_back(opened: SQLiteStore) -> None:
    await opened.write(batch("a", 1))
    with pytest.raises(StoreError, match="conflicts with data already in") as err:
        await opened.write(WriteBatch(tasks=[task("b")], messages=msgs("a", 2, 1)))
    assert not isinstance(err.value, StoreUnavailable)
    assert cause_name(err.value) == "SQLITE_CONSTRAINT_PRIMARYKEY"
    assert await opened.get_task("b") is None
    assert [m.seq for m in await opened.load_messages("a")] == [1]
    await opened.write(batch("b", 1))  # the connection is usable after the rollback


async def test_a_full_disk_is_unavailable_and_the_batch_is_not_applied(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        store = SQLiteStore(disk.path / "s.sqlite3")
        await store.open()
        try:
            await store.write(batch("a", 1))
            big = WriteBatch(
                tasks=[task("b")],
                messages=msgs("b", 1),
                artifacts=[Artifact("b", "scan.bin", "application/octet-stream", b"\1" * 2**20)],
            )
            with disk.full():
                with pytest.raises(StoreUnavailable, match="is full") as err:
                    await store.write(big)
                assert cause_name(err.value) == "SQLITE_FULL"
                assert await store.get_task("b") is None
            await store.write(big)
            assert await store.list_artifacts("b") == [("scan.bin", "application/octet-stream")]
        finally:
            await store.close()


async def test_a_read_only_disk_is_unavailable_until_it_is_writable_again(
    tmp_path: Path,
) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        db = disk.path / "s.sqlite3"
        first = SQLiteStore(db)
        await first.open()
        await first.write(batch("a", 1))
        await first.close()
        store = SQLiteStore(db)
        elsewhere = SQLiteStore(disk.path / "new" / "s.sqlite3")
        try:
            with disk.read_only():
                with pytest.raises(StoreUnavailable, match="cannot be opened") as err:
                    await store.open()
                assert cause_name(err.value) == "SQLITE_CANTOPEN"
                with pytest.raises(StoreUnavailable, match="Read-only file system"):
                    await elsewhere.open()  # its directory cannot even be created
            await store.open()  # opening again after a failure is allowed
            assert await store.get_task("a") is not None
        finally:
            await store.close()
            await elsewhere.close()


async def test_a_zeroed_page_is_a_permanent_error(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    store = SQLiteStore(db)
    await store.open()
    await store.write(batch("a", *range(1, 200)))
    await store.close()
    zero_page(db, table_root_page(db, "messages"))
    store = SQLiteStore(db)
    await store.open()
    try:
        with pytest.raises(StoreError, match="is damaged; restore it from a backup") as err:
            await store.load_messages("a")
        assert not isinstance(err.value, StoreUnavailable)
        assert cause_name(err.value) == "SQLITE_CORRUPT"
        assert await store.get_task("a") is not None  # the other tables still answer
    finally:
        await store.close()


async def test_a_file_that_is_not_a_database_is_a_permanent_error(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    db.write_bytes(b"this is a lab notebook, not a database\n" * 200)
    store = SQLiteStore(db)
    try:
        with pytest.raises(StoreError, match="is not an SQLite database") as err:
            await store.open()
        assert not isinstance(err.value, StoreUnavailable)
        assert cause_name(err.value) == "SQLITE_NOTADB"
    finally:
        await store.close()


async def test_a_database_of_another_schema_is_refused_at_open(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE tasks (id INTEGER PRIMARY KEY, name TEXT)")
    conn.close()
    store = SQLiteStore(db)
    try:
        with pytest.raises(StoreError, match="not of Interlock's schema: table tasks") as err:
            await store.open()
        assert not isinstance(err.value, StoreUnavailable)
    finally:
        await store.close()
