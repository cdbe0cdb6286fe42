"""The tables of ``auth.sqlite3`` and how rows become ``interlock.auth.store`` records.

Times are ISO 8601 text in UTC with a fixed precision, so that SQL compares them as times.
The allowed roles and kinds come from their enums (one fact, one place).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from .roles import Role
from .store import CredentialKind, CredentialRecord, Grant, User

_ROLES = ",".join(f"'{role.value}'" for role in Role)
_KINDS = ",".join(f"'{kind.value}'" for kind in CredentialKind)
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ({_ROLES})),
    password_hash TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ({_KINDS})),
    secret_sha256 TEXT NOT NULL UNIQUE,
    user TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX IF NOT EXISTS credentials_by_user ON credentials (user, kind);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('generation', 0);
"""
GRANT = (
    "SELECT c.id, c.kind, c.user, u.role, c.expires_at FROM credentials c "
    "JOIN users u ON u.name = c.user "
    "WHERE {where} AND c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > ?)"
)


def iso(value: datetime | None) -> str | None:
    # Fixed precision, always UTC: the text sorts as the time does (SQL compares it).
    return value.isoformat(timespec="microseconds") if value is not None else None


def time_of(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text is not None else None


def user_from(row: sqlite3.Row) -> User:
    created = datetime.fromisoformat(row["created_at"])
    return User(row["name"], Role(row["role"]), created, row["password_hash"])


def record_from(row: sqlite3.Row) -> CredentialRecord:
    return CredentialRecord(
        id=row["id"],
        kind=CredentialKind(row["kind"]),
        user=row["user"],
        created_at=datetime.fromisoformat(row["created_at"]),
        expires_at=time_of(row["expires_at"]),
        last_used_at=time_of(row["last_used_at"]),
        revoked_at=time_of(row["revoked_at"]),
    )


def grant_from(row: sqlite3.Row | None) -> Grant | None:
    if row is None:
        return None
    return Grant(row[0], CredentialKind(row[1]), row[2], Role(row[3]), time_of(row[4]))
