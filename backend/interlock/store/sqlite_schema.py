"""The SQLite schema and the mapping between its rows and the ``Store`` records."""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import datetime
from typing import Any

from ..exceptions import StoreError
from .base import TERMINAL_STATUSES, RequestRecord, TaskRecord

TERMINAL = tuple(sorted(TERMINAL_STATUSES))

#: Columns added to a table since its first release, oldest first, with their type. They
#: come last in ``SCHEMA`` and are NULL in rows written before: ``upgrade`` adds them to a
#: database of an earlier version.
ADDED_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "tasks": (("respondents", "TEXT"), ("created_by", "TEXT"), ("cancelled_by", "TEXT")),
}

#: What a task list's text filter searches, lower-cased (ASCII), in one string.
TEXT_COLUMNS = (
    "lower(task_id||' '||task_type||' '||coalesce(message,'')||' '||coalesce(error,'')"
    "||' '||coalesce(created_by,'')||' '||parameters)"
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
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
    last_seq INTEGER NOT NULL DEFAULT 0,
    respondents TEXT,
    created_by TEXT,
    cancelled_by TEXT
);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at);
CREATE INDEX IF NOT EXISTS tasks_created_by ON tasks (created_by, created_at);
CREATE INDEX IF NOT EXISTS tasks_type ON tasks (task_type, created_at);
CREATE TABLE IF NOT EXISTS messages (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS requests (
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
CREATE INDEX IF NOT EXISTS requests_session ON requests (session_id);
CREATE TABLE IF NOT EXISTS artifacts (
    task_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (task_id, name)
);
"""


def dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@functools.cache
def task_insert() -> str:
    """The statement that writes a ``task_row`` (columns by name: safe whatever their order)."""
    columns = expected_columns()["tasks"]
    marks = ",".join("?" * len(columns))
    return f"INSERT OR REPLACE INTO tasks ({','.join(columns)}) VALUES ({marks})"


def task_row(t: TaskRecord) -> tuple[Any, ...]:
    return (
        t.task_id,
        t.task_type,
        json.dumps(t.parameters),
        t.status,
        t.progress,
        t.message,
        t.stage,
        dt(t.created_at),
        dt(t.started_at),
        dt(t.completed_at),
        json.dumps(t.result),
        t.error,
        t.last_seq,
        json.dumps(t.respondents) if t.respondents is not None else None,
        t.created_by,
        t.cancelled_by,
    )


def task_from_row(row: sqlite3.Row) -> TaskRecord:
    created = parse_dt(row["created_at"])
    assert created is not None
    return TaskRecord(
        task_id=row["task_id"],
        task_type=row["task_type"],
        parameters=json.loads(row["parameters"]),
        status=row["status"],
        progress=row["progress"],
        message=row["message"],
        stage=row["stage"],
        created_at=created,
        started_at=parse_dt(row["started_at"]),
        completed_at=parse_dt(row["completed_at"]),
        result=json.loads(row["result"]) if row["result"] is not None else None,
        error=row["error"],
        last_seq=row["last_seq"],
        respondents=json.loads(row["respondents"]) if row["respondents"] is not None else None,
        created_by=row["created_by"],
        cancelled_by=row["cancelled_by"],
    )


@functools.cache
def expected_columns() -> dict[str, list[str]]:
    """Each table's column names, as ``SCHEMA`` creates them."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.executescript(SCHEMA)
        return table_columns(conn)
    finally:
        conn.close()


def table_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Each table's column names in the database behind ``conn``."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}


def _additions(table: str, found: list[str]) -> list[tuple[str, str]] | None:
    """The columns that bring ``table`` with columns ``found`` to the current schema, or
    None when it is not this table of any version (another application's table)."""
    expected = expected_columns()[table]
    added = dict(ADDED_COLUMNS.get(table, ()))
    missing = expected[len(found) :]
    if found != expected[: len(found)] or any(name not in added for name in missing):
        return None
    return [(name, added[name]) for name in missing]


def upgrade(conn: sqlite3.Connection, where: object) -> list[str]:
    """Bring the database behind ``conn`` (not in a transaction) to the current schema: the
    columns of ``ADDED_COLUMNS`` it lacks are added, all in one transaction. Returns what was
    added (``table.column``); ``StoreError`` naming ``where`` for a table of another schema.
    Tables that do not exist yet are left to ``SCHEMA``."""
    plan = _plan(conn, where)
    if not plan:
        return []
    conn.execute("BEGIN IMMEDIATE")
    try:
        plan = _plan(conn, where)  # again, under the lock: another process may have done it
        for table, name, kind in plan:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return [f"{table}.{name}" for table, name, _ in plan]


def _plan(conn: sqlite3.Connection, where: object) -> list[tuple[str, str, str]]:
    found = table_columns(conn)
    plan: list[tuple[str, str, str]] = []
    for table, columns in expected_columns().items():
        if table not in found:
            continue
        additions = _additions(table, found[table])
        if additions is None:
            raise StoreError(
                f"the database {where} is not of Interlock's schema: table "
                f"{table} has columns {found[table]}, expected {columns}"
            )
        plan += [(table, name, kind) for name, kind in additions]
    return plan


def request_row(r: RequestRecord) -> tuple[Any, ...]:
    return (
        r.request_id,
        r.session_id,
        r.seq,
        r.kind,
        r.prompt,
        json.dumps(r.payload),
        r.status,
        json.dumps(r.answer),
        json.dumps(r.answered_by) if r.answered_by is not None else None,
        dt(r.resolved_at),
    )


def request_from_row(r: sqlite3.Row) -> RequestRecord:
    return RequestRecord(
        request_id=r["request_id"],
        session_id=r["session_id"],
        seq=r["seq"],
        kind=r["kind"],
        prompt=r["prompt"],
        payload=json.loads(r["payload"]),
        status=r["status"],
        answer=json.loads(r["answer"]),
        answered_by=json.loads(r["answered_by"]) if r["answered_by"] else None,
        resolved_at=parse_dt(r["resolved_at"]),
    )
