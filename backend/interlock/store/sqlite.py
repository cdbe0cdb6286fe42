"""SQLite ``Store``: stdlib ``sqlite3`` on one dedicated thread, WAL journal.

Why this driver: one connection owned by one thread matches SQLite's single-writer model,
lets a whole ``WriteBatch`` be one transaction (group commit), and needs no dependency.
aiosqlite would add a thread hop per statement and a second queue for nothing.

Every call is bounded by ``timeout`` (``StoreThread``, in ``worker.py``); a write whose caller
gave up rolls back before COMMIT. SQLite's busy timeout is below it, so a database locked by
another process fails the statement instead of holding the thread. WAL checkpoints run beside
the writer (``Checkpointer``, in ``sqlite_checkpoint.py``), so no commit waits for one.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from ..exceptions import StoreError
from .base import (
    Artifact,
    MessagePage,
    RequestRecord,
    Store,
    StoredMessage,
    TaskFilter,
    TaskRecord,
    WriteBatch,
)
from .sqlite_checkpoint import BACKSTOP_PAGES, Checkpointer
from .sqlite_errors import classify, unreachable
from .sqlite_schema import (
    SCHEMA,
    TERMINAL,
    TEXT_COLUMNS,
    dt,
    request_from_row,
    request_row,
    task_from_row,
    task_insert,
    task_row,
    upgrade,
)
from .worker import Abandoned, StoreThread

T = TypeVar("T")

log = logging.getLogger("interlock.store")


class SQLiteStore(Store):
    """A ``Store`` in one SQLite file. ``synchronous=NORMAL`` in WAL mode survives a process
    crash without losing a committed batch; ``durable=True`` also fsyncs every commit
    (survives power loss, at the cost of one fsync per group commit). ``timeout`` bounds
    every call (seconds); ``busy_timeout`` is how long a statement waits for another
    connection's lock (default: half of ``timeout``)."""

    def __init__(
        self,
        path: Path,
        *,
        durable: bool = False,
        timeout: float = 5.0,
        busy_timeout: float | None = None,
    ) -> None:
        self.path = path
        self.durable = durable
        self.timeout = timeout
        self.busy_timeout = timeout / 2 if busy_timeout is None else busy_timeout
        self._thread = StoreThread(f"the database {path}", timeout)
        self.checkpointer = Checkpointer(path)
        self._conn: sqlite3.Connection | None = None
        self._opened = False
        self._late: WriteBatch | None = None  # store thread only

    # ------------------------------------------------------------------ the store thread

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await self._thread.call(lambda: self._run(fn))

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return fn(self._conn or self._connect())
        except sqlite3.Error as exc:
            raise classify(exc, self.path) from exc
        except OSError as exc:
            raise unreachable(exc, self.path) from exc

    def _connect(self) -> sqlite3.Connection:
        if not self._opened:
            raise StoreError(f"the store {self.path} is not open")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=self.busy_timeout
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if self.durable else 'NORMAL'}")
            conn.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_PAGES}")
            conn.execute("PRAGMA foreign_keys=OFF")
            added = upgrade(conn, self.path)  # a database of an earlier version
            if added:
                log.info("upgraded the database %s: added %s", self.path, ", ".join(added))
            conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        """BEGIN IMMEDIATE … COMMIT; on any error nothing is applied."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            if self._thread.abandoned():
                raise Abandoned
            conn.execute("COMMIT")
        except BaseException:
            self._rollback(conn)
            raise
        self.checkpointer.committed()

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if not conn.in_transaction:  # SQLite already rolled back (e.g. SQLITE_FULL)
            return
        try:
            conn.execute("ROLLBACK")
        except sqlite3.Error:
            # A connection that cannot roll back is in an unknown state: start afresh.
            log.warning("rollback failed on %s; reconnecting", self.path, exc_info=True)
            self._conn = None
            try:
                conn.close()
            except sqlite3.Error:
                log.debug("closing the failed connection failed too", exc_info=True)

    # ------------------------------------------------------------------------- the API

    async def open(self) -> None:
        self._opened = True
        await self._call(lambda conn: None)

    async def close(self) -> None:
        def disconnect() -> None:
            self._opened = False
            # First: the last connection to close checkpoints and removes the log.
            self.checkpointer.close(self.timeout)
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._thread.close(disconnect)

    async def write(self, batch: WriteBatch) -> None:
        await self._call(lambda conn: self._write(conn, batch))

    def _write(self, conn: sqlite3.Connection, batch: WriteBatch) -> None:
        if batch is self._late:  # its caller gave up while it committed: done already
            self._late = None
            return
        with self._transaction(conn):
            if batch.tasks:
                conn.executemany(
                    task_insert(),
                    [task_row(t) for t in batch.tasks],
                )
            if batch.messages:
                conn.executemany(
                    "INSERT INTO messages VALUES (?,?,?,?)",
                    [(m.session_id, m.seq, m.type, m.data) for m in batch.messages],
                )
            if batch.requests:
                conn.executemany(
                    "INSERT OR REPLACE INTO requests VALUES (?,?,?,?,?,?,?,?,?,?)",
                    [request_row(r) for r in batch.requests],
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
        if not self._thread.finish():
            self._late = batch

    async def get_task(self, task_id: str) -> TaskRecord | None:
        def q(conn: sqlite3.Connection) -> TaskRecord | None:
            row = conn.execute("SELECT * FROM tasks WHERE task_id=?", (task_id,)).fetchone()
            return task_from_row(row) if row else None

        return await self._call(q)

    async def list_tasks(
        self,
        *,
        status: str | None = None,
        created_by: str | None = None,
        limit: int = 100,
        offset: int = 0,
        where: TaskFilter | None = None,
    ) -> list[TaskRecord]:
        more = where or TaskFilter()
        filters = {
            "status=?": status,
            "created_by=?": created_by,
            "task_type=?": more.task_type,
            "created_at>=?": dt(more.created_after),
            "created_at<?": dt(more.created_before),
            f"instr({TEXT_COLUMNS}, lower(?))>0": more.text,
        }
        clauses = [clause for clause, value in filters.items() if value is not None]
        args = [value for value in filters.values() if value is not None]
        sql = "SELECT * FROM tasks" + (f" WHERE {' AND '.join(clauses)}" if clauses else "")

        def q(conn: sqlite3.Connection) -> list[TaskRecord]:
            rows = conn.execute(
                f"{sql} ORDER BY created_at DESC LIMIT ? OFFSET ?", (*args, limit, offset)
            )
            return [task_from_row(r) for r in rows]

        return await self._call(q)

    async def unfinished_tasks(self) -> list[TaskRecord]:
        def q(conn: sqlite3.Connection) -> list[TaskRecord]:
            rows = conn.execute(
                f"SELECT * FROM tasks WHERE status NOT IN ({','.join('?' * len(TERMINAL))})"
                " ORDER BY created_at",
                TERMINAL,
            )
            return [task_from_row(r) for r in rows]

        return await self._call(q)

    async def load_messages(self, session_id: str) -> list[StoredMessage]:
        def q(conn: sqlite3.Connection) -> list[StoredMessage]:
            rows = conn.execute(
                "SELECT seq, type, data FROM messages WHERE session_id=? ORDER BY seq",
                (session_id,),
            )
            return [StoredMessage(session_id, r[0], r[1], r[2]) for r in rows]

        return await self._call(q)

    async def read_messages(
        self,
        session_id: str,
        *,
        after_seq: int = 0,
        before_seq: int | None = None,
        limit: int = 1000,
        newest: bool = False,
    ) -> MessagePage:
        upper = "" if before_seq is None else " AND seq<?"
        bounds = () if before_seq is None else (before_seq,)
        args = (session_id, after_seq, *bounds)
        order = "DESC" if newest else "ASC"

        def q(conn: sqlite3.Connection) -> MessagePage:
            rows = conn.execute(
                "SELECT seq, type, data FROM messages WHERE session_id=? AND seq>?"
                f"{upper} ORDER BY seq {order} LIMIT ?",
                (*args, limit),
            ).fetchall()
            if newest:
                rows.reverse()
            first, last = conn.execute(
                "SELECT min(seq), max(seq) FROM messages WHERE session_id=?", (session_id,)
            ).fetchone()
            return MessagePage(
                [StoredMessage(session_id, r[0], r[1], r[2]) for r in rows], first or 0, last or 0
            )

        return await self._call(q)

    async def get_requests(self, session_id: str) -> list[RequestRecord]:
        def q(conn: sqlite3.Connection) -> list[RequestRecord]:
            rows = conn.execute(
                "SELECT * FROM requests WHERE session_id=? ORDER BY seq", (session_id,)
            )
            return [request_from_row(r) for r in rows]

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
            marks = ",".join("?" * len(TERMINAL))
            ids = [
                r[0]
                for r in conn.execute(
                    f"SELECT task_id FROM tasks WHERE status IN ({marks}) AND completed_at < ?",
                    (*TERMINAL, finished_before.isoformat()),
                )
            ]
            if not ids:
                return 0
            with self._transaction(conn):
                for table, col in (
                    ("messages", "session_id"),
                    ("requests", "session_id"),
                    ("artifacts", "task_id"),
                    ("tasks", "task_id"),
                ):
                    conn.executemany(f"DELETE FROM {table} WHERE {col}=?", [(i,) for i in ids])
            return len(ids)

        return await self._call(q)
