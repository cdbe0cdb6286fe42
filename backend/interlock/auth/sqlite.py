"""``SQLiteAuthStore``: users and credentials in ``<data dir>/auth.sqlite3``.

A file of its own, apart from the task database: ``interlock users``/``tokens`` commands
write it while a server runs (they never take the data directory's lock), and it can be
backed up, restored or wiped on its own. WAL journal, ``synchronous=FULL`` (a revocation
survives a power cut; writes are rare), each write one ``BEGIN IMMEDIATE`` transaction, and
a busy timeout so that two processes writing at once wait for each other instead of failing.
The file is created readable by its owner only (its hashes are still worth protecting).
Calls run on one thread of their own (``StoreThread``), bounded by ``timeout``.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from ..exceptions import DuplicateUser, StoreError, UnknownToken, UnknownUser
from ..store.sqlite_errors import classify, unreachable
from ..store.worker import Abandoned, StoreThread
from .credentials import new_id
from .roles import Role
from .sqlite_schema import GRANT, SCHEMA, grant_from, iso, record_from, user_from
from .store import AuthStore, CredentialKind, CredentialRecord, Grant, User, utcnow

T = TypeVar("T")

FILE_NAME = "auth.sqlite3"


class SQLiteAuthStore(AuthStore):
    """An ``AuthStore`` in one SQLite file; see the module docstring."""

    def __init__(self, path: Path, *, timeout: float = 5.0) -> None:
        self.path = path
        self._thread = StoreThread(f"the auth database {path}", timeout)
        self._busy = timeout / 2
        self._conn: sqlite3.Connection | None = None
        self._opened = False

    @classmethod
    def in_dir(cls, data_dir: Path, *, timeout: float = 5.0) -> SQLiteAuthStore:
        return cls(data_dir / FILE_NAME, timeout=timeout)

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
            raise StoreError(f"the auth store {self.path} is not open")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Owner-only from the first byte (SQLite gives its -wal/-shm files the same mode).
        os.close(os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600))
        conn = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=self._busy
        )
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            # Idempotent statements: a server and a command creating it at once is fine.
            conn.executescript(SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return conn

    @contextmanager
    def _transaction(self, conn: sqlite3.Connection) -> Iterator[None]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            if self._thread.abandoned():  # the caller gave up: it believes this failed
                raise Abandoned
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    @staticmethod
    def _bump(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")

    def _write(self, fn: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
        def run(conn: sqlite3.Connection) -> T:
            with self._transaction(conn):
                return fn(conn)

        return run

    # ------------------------------------------------------------------------- the API

    async def open(self) -> None:
        self._opened = True
        await self._call(lambda conn: None)

    async def close(self) -> None:
        def disconnect() -> None:
            self._opened = False
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await self._thread.close(disconnect)

    async def add_user(self, name: str, role: Role, password_hash: str | None) -> User:
        user = User(name, role, utcnow(), password_hash)

        def q(conn: sqlite3.Connection) -> User:
            if conn.execute("SELECT 1 FROM users WHERE name=?", (name,)).fetchone():
                raise DuplicateUser(name)
            conn.execute(
                "INSERT INTO users VALUES (?,?,?,?)",
                (name, role.value, password_hash, iso(user.created_at)),
            )
            return user

        return await self._call(self._write(q))

    async def get_user(self, name: str) -> User | None:
        def q(conn: sqlite3.Connection) -> User | None:
            row = conn.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone()
            return user_from(row) if row else None

        return await self._call(q)

    async def list_users(self) -> list[User]:
        return await self._call(
            lambda conn: [user_from(r) for r in conn.execute("SELECT * FROM users ORDER BY name")]
        )

    def _change_user(self, name: str, sql: str, args: tuple[Any, ...]) -> Callable[..., None]:
        def q(conn: sqlite3.Connection) -> None:
            if conn.execute(sql, args).rowcount == 0:
                raise UnknownUser(name)
            self._bump(conn)

        return q

    async def set_role(self, name: str, role: Role) -> User:
        change = self._change_user(name, "UPDATE users SET role=? WHERE name=?", (role.value, name))

        def q(conn: sqlite3.Connection) -> User:
            change(conn)
            return user_from(conn.execute("SELECT * FROM users WHERE name=?", (name,)).fetchone())

        return await self._call(self._write(q))

    async def set_password(self, name: str, password_hash: str | None) -> None:
        change = self._change_user(
            name, "UPDATE users SET password_hash=? WHERE name=?", (password_hash, name)
        )

        def q(conn: sqlite3.Connection) -> None:
            change(conn)
            conn.execute(
                "UPDATE credentials SET revoked_at=? WHERE user=? AND kind=? "
                "AND revoked_at IS NULL",
                (iso(utcnow()), name, CredentialKind.LOGIN.value),
            )

        await self._call(self._write(q))

    async def remove_user(self, name: str) -> None:
        change = self._change_user(name, "DELETE FROM users WHERE name=?", (name,))

        def q(conn: sqlite3.Connection) -> None:
            change(conn)
            conn.execute("DELETE FROM credentials WHERE user=?", (name,))

        await self._call(self._write(q))

    async def add_credential(
        self,
        kind: CredentialKind,
        user: str,
        secret_digest: str,
        expires_at: datetime | None,
    ) -> CredentialRecord:
        def q(conn: sqlite3.Connection) -> CredentialRecord:
            if not conn.execute("SELECT 1 FROM users WHERE name=?", (user,)).fetchone():
                raise UnknownUser(user)
            while True:  # a clash of random ids is rare; try another
                record = CredentialRecord(new_id(), kind, user, utcnow(), expires_at, None, None)
                taken = conn.execute("SELECT 1 FROM credentials WHERE id=?", (record.id,))
                if taken.fetchone() is None:
                    break
            created, expires = iso(record.created_at), iso(expires_at)
            conn.execute(
                "INSERT INTO credentials VALUES (?,?,?,?,?,?,NULL,NULL)",
                (record.id, kind.value, secret_digest, user, created, expires),
            )
            return record

        return await self._call(self._write(q))

    async def list_credentials(
        self, kind: CredentialKind, user: str | None = None
    ) -> list[CredentialRecord]:
        def q(conn: sqlite3.Connection) -> list[CredentialRecord]:
            sql = "SELECT * FROM credentials WHERE kind=?"
            args: tuple[str, ...] = (kind.value,)
            if user is not None:
                sql, args = sql + " AND user=?", (*args, user)
            return [record_from(r) for r in conn.execute(sql + " ORDER BY created_at, id", args)]

        return await self._call(q)

    async def get_credential(self, credential_id: str) -> CredentialRecord | None:
        def q(conn: sqlite3.Connection) -> CredentialRecord | None:
            row = conn.execute("SELECT * FROM credentials WHERE id=?", (credential_id,))
            found = row.fetchone()
            return record_from(found) if found else None

        return await self._call(q)

    async def revoke(self, credential_id: str) -> bool:
        def q(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT revoked_at FROM credentials WHERE id=?", (credential_id,)
            ).fetchone()
            if row is None:
                raise UnknownToken(credential_id)
            if row[0] is not None:
                return False
            conn.execute(
                "UPDATE credentials SET revoked_at=? WHERE id=?", (iso(utcnow()), credential_id)
            )
            self._bump(conn)
            return True

        return await self._call(self._write(q))

    async def revoke_digest(self, secret_digest: str) -> str | None:
        def q(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT id FROM credentials WHERE secret_sha256=? AND revoked_at IS NULL",
                (secret_digest,),
            ).fetchone()
            if row is None:
                return None
            conn.execute("UPDATE credentials SET revoked_at=? WHERE id=?", (iso(utcnow()), row[0]))
            self._bump(conn)
            return str(row[0])

        return await self._call(self._write(q))

    async def touch(self, used: Mapping[str, datetime]) -> None:
        rows = [(iso(at), cid, iso(at)) for cid, at in used.items()]

        def q(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE credentials SET last_used_at=? WHERE id=? "
                "AND (last_used_at IS NULL OR last_used_at < ?)",
                rows,
            )

        if rows:
            await self._call(self._write(q))

    async def prune(self, before: datetime) -> int:
        def q(conn: sqlite3.Connection) -> int:
            cut = iso(before)
            return conn.execute(
                "DELETE FROM credentials WHERE kind=? AND (revoked_at < ? OR expires_at < ?)",
                (CredentialKind.LOGIN.value, cut, cut),
            ).rowcount

        return await self._call(self._write(q))

    async def grant_for_digest(self, secret_digest: str) -> Grant | None:
        sql = GRANT.format(where="c.secret_sha256=?")
        return await self._call(
            lambda conn: grant_from(conn.execute(sql, (secret_digest, iso(utcnow()))).fetchone())
        )

    async def grant(self, credential_id: str) -> Grant | None:
        sql = GRANT.format(where="c.id=?")
        return await self._call(
            lambda conn: grant_from(conn.execute(sql, (credential_id, iso(utcnow()))).fetchone())
        )

    async def generation(self) -> int:
        def q(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT value FROM meta WHERE key='generation'").fetchone()
            return int(row[0])

        return await self._call(q)
