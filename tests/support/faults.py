"""Real faults for tests: a database another connection keeps locked, a disk that fills up
or turns read-only (a tmpfs mount), a page of a database file overwritten with zeros.

Nothing here fakes an error: SQLite and the kernel produce them (``SQLITE_BUSY``, ``ENOSPC``
→ ``SQLITE_FULL``, ``EROFS``, ``SQLITE_CORRUPT``). Mounting needs root; ``tmpfs`` skips the
test, saying why, where it is not permitted, and unmounts even when the test fails.

    with locked_database(db) as lock:      # writers get "database is locked"; readers read
        ...
        lock.release()                     # or leave the block

    with tmpfs(tmp_path / "data") as disk:   # a 4 MiB file system at that path
        with disk.full():                    # ENOSPC for anything that needs a new block
            ...
        with disk.read_only():               # EROFS; needs no file open for writing on it
            ...

    zero_page(db, table_root_page(db, "messages"))   # on a closed database
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

BALLAST = ".ballast"


class DatabaseLock:
    """A second connection holding the database's write lock (``BEGIN IMMEDIATE``) until
    ``release``. In WAL mode readers still read; every writer waits for it (busy timeout),
    then fails with ``SQLITE_BUSY``. ``release`` may be called from any thread, twice."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._guard = threading.Lock()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except BaseException:
            self._conn.close()
            raise
        self.held = True

    def release(self) -> None:
        with self._guard:
            if self.held:
                self.held = False
                self._conn.execute("ROLLBACK")
                self._conn.close()


@contextlib.contextmanager
def locked_database(path: Path) -> Iterator[DatabaseLock]:
    """Hold ``path``'s write lock from another connection for the block (see ``DatabaseLock``)."""
    lock = DatabaseLock(path)
    try:
        yield lock
    finally:
        lock.release()


@functools.cache
def _mount_refusal() -> str | None:
    """Why this process cannot mount a tmpfs, or None when it can."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    with tempfile.TemporaryDirectory(prefix="interlock-mount-probe-") as probe:
        done = _run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe)
        if done.returncode != 0:
            return f"mount is not permitted here: {done.stderr.strip()}"
        _unmount(Path(probe))
    return None


def require_mount() -> None:
    """Skip the calling test, saying why, when a tmpfs cannot be mounted."""
    reason = _mount_refusal()
    if reason is not None:
        pytest.skip(reason)


class Tmpfs:
    """A size-limited tmpfs mounted at ``path``: a disk that can fill up or turn read-only."""

    def __init__(self, path: Path, size: str) -> None:
        self.path = path
        self.size = size
        self.read_only_now = False

    def fill(self) -> None:
        """Take every free block (a ballast file), so the next write that needs a block
        gets ``ENOSPC``. Writes into space SQLite already holds (a reused WAL) may still fit:
        make the write under test large enough to need new pages."""
        fd = os.open(self.path / BALLAST, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        chunk = b"\0" * 65536
        try:
            while True:
                try:
                    os.write(fd, chunk)
                except OSError:
                    if len(chunk) == 1:
                        break
                    chunk = chunk[: len(chunk) // 2]
        finally:
            os.close(fd)

    def drain(self) -> None:
        """Give the ballast's blocks back."""
        (self.path / BALLAST).unlink(missing_ok=True)

    @contextlib.contextmanager
    def full(self) -> Iterator[None]:
        """The disk is full for the block, then has room again."""
        self.fill()
        try:
            yield
        finally:
            self.drain()

    def remount(self, *, read_only: bool) -> None:
        """Remount read-only or read-write. Linux refuses to make a file system read-only
        while a file on it is open for writing (an open SQLite connection is): then this
        raises, saying so. Close the store (stop the server) first."""
        done = _run("mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(self.path))
        if done.returncode != 0:
            busy = " (a file on it is open for writing)" if "busy" in done.stderr else ""
            raise RuntimeError(f"cannot remount {self.path}{busy}: {done.stderr.strip()}")
        self.read_only_now = read_only

    @contextlib.contextmanager
    def read_only(self) -> Iterator[None]:
        """Read-only for the block (``EROFS`` for every write), then writable again."""
        self.remount(read_only=True)
        try:
            yield
        finally:
            self.remount(read_only=False)


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "4m") -> Iterator[Tmpfs]:
    """Mount a tmpfs of ``size`` (``mount -o size=`` syntax) at ``path`` (created if missing)
    for the block; skips the test when mounting is not permitted. Always unmounted after,
    lazily if something still has a file open on it."""
    require_mount()
    path.mkdir(parents=True, exist_ok=True)
    done = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path))
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs at {path}: {done.stderr.strip()}")
    try:
        yield Tmpfs(path, size)
    finally:
        _unmount(path)


def _unmount(path: Path) -> None:
    if _run("umount", str(path)).returncode != 0:
        # Something (a server thread that has not let go yet) holds a file: detach now, the
        # kernel frees it when the last file closes. Never leave a mount behind.
        done = _run("umount", "-l", str(path))
        if done.returncode != 0:
            raise RuntimeError(f"cannot unmount {path}: {done.stderr.strip()}")


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False)


def page_size(db: Path) -> int:
    """The database's page size, from its header."""
    with db.open("rb") as f:
        f.seek(16)
        raw = int.from_bytes(f.read(2), "big")
    return 65536 if raw == 1 else raw


def table_root_page(db: Path, table: str) -> int:
    """The number (1-based) of the page at the root of ``table``'s b-tree."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT rootpage FROM sqlite_master WHERE name=?", (table,)).fetchone()
    finally:
        conn.close()
    if row is None:
        raise LookupError(f"no table {table!r} in {db}")
    return int(row[0])


def zero_page(db: Path, page: int) -> None:
    """Overwrite page ``page`` (1-based) of the closed database ``db`` with zeros, as a bad
    sector or a torn write would. Refuses while a WAL with frames exists beside it (its
    frames would hide the damage, or be lost): stop the server first."""
    wal = db.with_name(db.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise RuntimeError(f"{wal} holds frames: close every connection to {db} first")
    size = page_size(db)
    with db.open("r+b") as f:
        f.seek((page - 1) * size)
        f.write(b"\0" * size)
        f.flush()
        os.fsync(f.fileno())
