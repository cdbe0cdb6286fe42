"""A database written by an earlier version opens, keeps its data, and gains the new columns."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

from interlock.store import SQLiteStore, TaskFilter, TaskRecord, WriteBatch
from interlock.store.sqlite_schema import expected_columns

from .test_contract import T0

#: The schema before the audit columns (respondents, created_by, cancelled_by), as released.
PREVIOUS_SCHEMA = """
CREATE TABLE tasks (
    task_id TEXT PRIMARY KEY,
    task_type TEXT NOT NULL,
    parameters TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    message TEXT,
    stage TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT,
    completed_at TEXT,
    result TEXT,
    error TEXT,
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tasks_created ON tasks (created_at);
CREATE TABLE messages (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE requests (
    request_id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    prompt TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    answer TEXT,
    answered_by TEXT,
    resolved_at TEXT
);
CREATE INDEX requests_session ON requests (session_id);
CREATE TABLE artifacts (
    task_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (task_id, name)
);
"""


def previous_database(path: Path) -> None:
    """A database as the previous version left it: one finished task with one message."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript(PREVIOUS_SCHEMA)
        conn.execute(
            "INSERT INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            ("old", "t", json.dumps({"a": 1}), "completed", 100.0, "done", None,
             T0.isoformat(), T0.isoformat(), T0.isoformat(), json.dumps(7), None, 1),
        )  # fmt: skip
        conn.execute("INSERT INTO messages VALUES ('old', 1, 'stream', '{}')")
        conn.commit()
    finally:
        conn.close()


async def test_a_database_of_the_previous_version_is_upgraded_in_place(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    previous_database(db)
    store = SQLiteStore(db)
    await store.open()
    try:
        old = await store.get_task("old")
        assert old is not None and old.result == 7 and old.last_seq == 1
        assert (old.respondents, old.created_by, old.cancelled_by) == (None, None, None)
        assert [m.seq for m in await store.load_messages("old")] == [1]
        later = T0 + timedelta(minutes=1)
        new = TaskRecord("new", "t", {}, "running", later, respondents=["ana"], created_by="ana")
        await store.write(WriteBatch(tasks=[new]))
        assert [t.task_id for t in await store.list_tasks(created_by="ana")] == ["new"]
        assert [t.task_id for t in await store.list_tasks()] == ["new", "old"]
        got = await store.get_task("new")
        assert got is not None and got.respondents == ["ana"]
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        columns = [r[1] for r in conn.execute("PRAGMA table_info(tasks)")]
        plan = " ".join(
            str(r[3])
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE created_by=? "
                "ORDER BY created_at DESC",
                ("ana",),
            )
        )
    finally:
        conn.close()
    assert columns == expected_columns()["tasks"]
    assert "tasks_created_by" in plan, plan  # one user's tasks without reading everyone's


async def test_an_upgraded_database_opens_again_as_it_is(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite3"
    previous_database(db)
    for _ in range(2):
        store = SQLiteStore(db)
        await store.open()
        try:
            await store.write(WriteBatch(tasks=[TaskRecord("x", "t", {}, "running", T0)]))
            assert await store.get_task("old") is not None
        finally:
            await store.close()


async def test_a_previous_database_gains_the_task_type_index_and_pages_its_log(
    tmp_path: Path,
) -> None:
    db = tmp_path / "s.sqlite3"
    previous_database(db)  # its log was trimmed to the replay window: what is there stays
    store = SQLiteStore(db)
    await store.open()
    try:
        page = await store.read_messages("old", after_seq=0, limit=10)
        assert [m.seq for m in page.messages] == [1] and (page.first_seq, page.last_seq) == (1, 1)
        found = await store.list_tasks(where=TaskFilter(task_type="t", text="done"))
        assert [t.task_id for t in found] == ["old"]
    finally:
        await store.close()
    conn = sqlite3.connect(db)
    try:
        plan = " ".join(
            str(r[3])
            for r in conn.execute(
                "EXPLAIN QUERY PLAN SELECT * FROM tasks WHERE task_type=? ORDER BY created_at DESC",
                ("t",),
            )
        )
    finally:
        conn.close()
    assert "tasks_type" in plan, plan  # one type's tasks without reading every task
