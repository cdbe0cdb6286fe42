"""SQLite ``Store``: stdlib ``sqlite3`` on one dedicated thread, WAL journal.

Why this driver: one connection owned by one thread matches SQLite's single-writer model,
lets a whole ``WriteBatch`` be one transaction (group commit), and needs no dependency.
aiosqlite would add a thread hop per statement and a second queue for nothing.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from .base import Artifact, RequestRecord, Store, StoredMessage, TaskRecord, WriteBatch

T = TypeVar("T")

_TERMINAL = ("completed", "failed", "cancelled", "interrupted")

_SCHEMA = """
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
    last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at);
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


def _dt(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _parse_dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


def _task_row(t: TaskRecord) -> tuple[Any, ...]:
    return (
        t.task_id,
        t.task_type,
        json.dumps(t.parameters),
        t.status,
        t.progress,
        t.message,
        t.stage,
        _dt(t.created_at),
        _dt(t.started_at),
        _dt(t.completed_at),
        json.dumps(t.result),
        t.error,
        t.last_seq,
    )


def _task_from_row(row: sqlite3.Row) -> TaskRecord:
    created = _parse_dt(row["created_at"])
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
        started_at=_parse_dt(row["started_at"]),
        completed_at=_parse_dt(row["completed_at"]),
        result=json.loads(row["result"]) if row["result"] is not None else None,
        error=row["error"],
        last_seq=row["last_seq"],
    )


class SQLiteStore(Store):
    """A ``Store`` in one SQLite file. ``synchronous=NORMAL`` in WAL mode survives a process
    crash without losing a committed batch; ``durable=True`` also fsyncs every commit
    (survives power loss, at the cost of one fsync per group commit)."""

    def __init__(self, path: Path, *, durable: bool = False) -> None:
        self.path = path
        self.durable = durable
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="interlock-sqlite")
        self._conn: sqlite3.Connection | None = None

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._with_conn, fn)

    def _with_conn(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        assert self._conn is not None, "store is not open"
        return fn(self._conn)

    def _connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.executescript(_SCHEMA)
        self._conn = conn

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connect)

    async def close(self) -> None:
        def _close(conn: sqlite3.Connection) -> None:
            conn.close()

        if self._conn is not None:
            await self._call(_close)
            self._conn = None
        self._executor.shutdown(wait=True)

    async def write(self, batch: WriteBatch) -> None:
        await self._call(lambda conn: self._write(conn, batch))

    @staticmethod
    def _write(conn: sqlite3.Connection, batch: WriteBatch) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if batch.tasks:
                conn.executemany(
                    "INSERT OR REPLACE INTO tasks VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [_task_row(t) for t in batch.tasks],
                )
            if batch.messages:
                conn.executemany(
                    "INSERT INTO messages VALUES (?,?,?,?)",
                    [(m.session_id, m.seq, m.type, m.data) for m in batch.messages],
                )
            if batch.requests:
                conn.executemany(
                    "INSERT OR REPLACE INTO requests VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [
                        (
                            r.request_id,
                            r.session_id,
                            r.seq,
                            r.kind,
                            r.prompt,
                            json.dumps(r.payload),
                            r.status,
                            json.dumps(r.answer),
                            json.dumps(r.answered_by) if r.answered_by is not None else None,
                            _dt(r.resolved_at),
                        )
                        for r in batch.requests
                    ],
                )
            if batch.artifacts:
                conn.executemany(
                    "INSERT OR REPLACE INTO artifacts VALUES (?,?,?,?)",
                    [(a.task_id, a.name, a.content_type, a.data) for a in batch.artifacts],
                )
            for session_id, (cut, keep) in batch.trims.items():
                conn.execute(
                    "DELETE FROM messages WHERE session_id=? AND seq<? AND seq!=?",
                    (session_id, cut, -1 if keep is None else keep),
                )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    async def get_task(self, task_id: str) -> TaskRecord | None:
        def q(conn: sqlite3.Connection) -> TaskRecord | None:
            row = conn.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()
            return _task_from_row(row) if row else None

        return await self._call(q)

    async def list_tasks(self, *, status: str | None = None, limit: int = 100) -> list[TaskRecord]:
        def q(conn: sqlite3.Connection) -> list[TaskRecord]:
            if status is None:
                rows = conn.execute(
                    "SELECT * FROM tasks ORDER BY created_at DESC LIMIT ?", (limit,)
                )
            else:
                rows = conn.execute(
                    "SELECT * FROM tasks WHERE status=? ORDER BY created_at DESC LIMIT ?",
                    (status, limit),
                )
            return [_task_from_row(r) for r in rows]

        return await self._call(q)

    async def unfinished_tasks(self) -> list[TaskRecord]:
        def q(conn: sqlite3.Connection) -> list[TaskRecord]:
            rows = conn.execute(
                f"SELECT * FROM tasks WHERE status NOT IN ({','.join('?' * len(_TERMINAL))})"
                " ORDER BY created_at",
                _TERMINAL,
            )
            return [_task_from_row(r) for r in rows]

        return await self._call(q)

    async def load_messages(self, session_id: str) -> list[StoredMessage]:
        def q(conn: sqlite3.Connection) -> list[StoredMessage]:
            rows = conn.execute(
                "SELECT seq, type, data FROM messages WHERE session_id=? ORDER BY seq",
                (session_id,),
            )
            return [StoredMessage(session_id, r[0], r[1], r[2]) for r in rows]

        return await self._call(q)

    async def get_requests(self, session_id: str) -> list[RequestRecord]:
        def q(conn: sqlite3.Connection) -> list[RequestRecord]:
            rows = conn.execute(
                "SELECT * FROM requests WHERE session_id=? ORDER BY seq", (session_id,)
            )
            return [
                RequestRecord(
                    request_id=r["request_id"],
                    session_id=r["session_id"],
                    seq=r["seq"],
                    kind=r["kind"],
                    prompt=r["prompt"],
                    payload=json.loads(r["payload"]),
                    status=r["status"],
                    answer=json.loads(r["answer"]),
                    answered_by=json.loads(r["answered_by"]) if r["answered_by"] else None,
                    resolved_at=_parse_dt(r["resolved_at"]),
                )
                for r in rows
            ]

        return await self._call(q)

    async def get_artifact(self, task_id: str, name: str) -> Artifact | None:
        def q(conn: sqlite3.Connection) -> Artifact | None:
            row = conn.execute(
                "SELECT content_type, data FROM artifacts WHERE task_id=? AND name=?",
                (task_id, name),
            ).fetchone()
            return Artifact(task_id, name, row[0], bytes(row[1])) if row else None

        return await self._call(q)

    async def list_artifacts(self, task_id: str) -> list[tuple[str, str]]:
        def q(conn: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = conn.execute(
                "SELECT name, content_type FROM artifacts WHERE task_id=? ORDER BY name",
                (task_id,),
            )
            return [(r[0], r[1]) for r in rows]

        return await self._call(q)

    async def prune(self, finished_before: datetime) -> int:
        def q(conn: sqlite3.Connection) -> int:
            marks = ",".join("?" * len(_TERMINAL))
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT task_id FROM tasks WHERE status IN ({marks}) AND completed_at < ?",
                    (*_TERMINAL, finished_before.isoformat()),
                )
            ]
            if not ids:
                return 0
            conn.execute("BEGIN IMMEDIATE")
            for table, col in (
                ("messages", "session_id"),
                ("requests", "session_id"),
                ("artifacts", "task_id"),
                ("tasks", "task_id"),
            ):
                conn.executemany(f"DELETE FROM {table} WHERE {col}=?", [(i,) for i in ids])
            conn.execute("COMMIT")
            return len(ids)

        return await self._call(q)
