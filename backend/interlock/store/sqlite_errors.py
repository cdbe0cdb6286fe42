"""What a failed SQLite call means for Interlock: ``StoreUnavailable`` (it may work later)
or ``StoreError`` (it never will, as asked).

Classified by the primary result code (``sqlite_errorcode & 0xff``) that Python 3.11 puts on
every ``sqlite3.Error``, so extended codes (``SQLITE_IOERR_WRITE``, ``SQLITE_BUSY_SNAPSHOT``…)
fall into their family. Anything unknown is permanent: retrying an error nobody understood
would stall the journal forever.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..exceptions import StoreError, StoreUnavailable

_TRANSIENT: dict[int, str] = {
    sqlite3.SQLITE_BUSY: "the database {path} is locked by another connection",
    sqlite3.SQLITE_LOCKED: "the database {path} is locked by another connection",
    sqlite3.SQLITE_FULL: "the disk holding {path} is full",
    sqlite3.SQLITE_IOERR: "a disk I/O error occurred on {path}",
    sqlite3.SQLITE_READONLY: "the database {path} is read-only (read-only mount or permissions)",
    sqlite3.SQLITE_CANTOPEN: (
        "the database {path} cannot be opened (missing directory, read-only mount or permissions)"
    ),
    sqlite3.SQLITE_PROTOCOL: "SQLite's locking protocol failed on {path} (lock race)",
    sqlite3.SQLITE_NOMEM: "SQLite ran out of memory working on {path}",
}

_PERMANENT: dict[int, str] = {
    sqlite3.SQLITE_CONSTRAINT: "the write conflicts with data already in {path}",
    sqlite3.SQLITE_CORRUPT: (
        "the database {path} is damaged; restore it from a backup "
        '(see "Backup and restore" in docs/deployment.md)'
    ),
    sqlite3.SQLITE_NOTADB: "{path} is not an SQLite database",
    sqlite3.SQLITE_SCHEMA: "the schema of {path} changed under a running statement",
    sqlite3.SQLITE_MISMATCH: "a value does not fit its column in {path}",
}

_OTHER = "the database {path} rejected the statement (is it Interlock's schema?)"


def classify(exc: sqlite3.Error, path: Path) -> StoreError:
    """The ``StoreError`` to raise for ``exc`` (the caller chains ``exc`` as its cause)."""
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    primary = code & 0xFF if code is not None else None
    if primary in _TRANSIENT:
        return StoreUnavailable(f"{_TRANSIENT[primary].format(path=path)} ({name}: {exc})")
    text = _PERMANENT.get(primary, _OTHER) if primary is not None else _OTHER
    return StoreError(f"{text.format(path=path)} ({name}: {exc})")


def unreachable(exc: OSError, path: Path) -> StoreUnavailable:
    """For an ``OSError`` met before SQLite is involved (creating the directory)."""
    return StoreUnavailable(f"the database {path} cannot be reached ({exc})")
