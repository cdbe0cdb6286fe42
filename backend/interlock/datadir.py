"""The data directory: one server per directory, and the checks made before the store opens.

A server holds ``<data dir>/interlock.lock`` with ``flock`` for as long as it runs, with its
pid written inside. The kernel drops the lock when the process ends, however it ends, so a
``kill -9`` never leaves a stale lock behind. Holding is reentrant within a process (``flock``
belongs to an open file description, so a second ``open`` + ``flock`` in the same process
would refuse itself): ``interlock serve`` takes the lock before it builds the app, and the
app's lifespan takes it again for servers embedded in another program or a test.

Only servers take the lock. Opening the store does not, so admin commands can read and
write the database next to a running server.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TypeVar

from .exceptions import DataDirInUse, DataDirUnusable

LOCK_FILE = "interlock.lock"
BACKUP_HELP = 'see "Backup and restore" in docs/deployment.md'
#: How long a second process waits for the holder to finish writing its pid.
_PID_WAIT = 1.0

A = TypeVar("A")

_registry: dict[tuple[int, int], DataDirLock] = {}
_registry_guard = threading.Lock()


class DataDirLock:
    """This process's hold on one data directory.

    ``acquire`` the same directory again in this process and you get the same object with
    one more holder; the OS lock goes when the last holder calls ``release``.
    """

    def __init__(self, path: Path, key: tuple[int, int], fd: int) -> None:
        self.path = path
        self._key = key
        self._fd = fd
        self._holders = 1
        #: The start-up checks passed under this hold (they run once, not once per holder).
        self.checked = False

    @property
    def held(self) -> bool:
        return self._holders > 0

    def release(self) -> None:
        """Drop one hold; the last one closes the lock file, which releases the OS lock."""
        with _registry_guard:
            if self._holders == 0:
                return
            self._holders -= 1
            if self._holders == 0:
                del _registry[self._key]
                os.close(self._fd)  # releases the flock; the file stays (unlinking would race)


def acquire(data_dir: Path) -> DataDirLock:
    """Hold ``data_dir`` (created if missing) for this process.

    Raises ``DataDirInUse`` at once when another process holds it, and ``DataDirUnusable``
    when the directory cannot be created or the lock file cannot be written.
    """
    path = data_dir.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        raise _unwritable(path, exc) from exc
    key = (st.st_dev, st.st_ino)
    with _registry_guard:
        held = _registry.get(key)
        if held is not None:
            held._holders += 1
            return held
        fd = _lock(path)
        lock = _registry[key] = DataDirLock(path, key, fd)
        return lock


def _lock(path: Path) -> int:
    lock_path = path / LOCK_FILE
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise _unwritable(path, exc) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        os.close(fd)
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            raise DataDirInUse(str(path), _holder_pid(lock_path)) from None
        raise _unwritable(path, exc) from exc
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as exc:
        os.close(fd)
        raise _unwritable(path, exc) from exc
    return fd


def _holder_pid(lock_path: Path) -> int | None:
    # The holder writes its pid just after it gets the lock: give it a moment if we came
    # in between.
    deadline = time.monotonic() + _PID_WAIT
    while True:
        try:
            return int(lock_path.read_text().strip())
        except (OSError, ValueError):
            if time.monotonic() > deadline:
                return None
            time.sleep(0.01)


def check(data_dir: Path, database: Path) -> None:
    """The start-up checks: ``data_dir`` is writable and ``database`` (if it exists) passes
    ``PRAGMA quick_check``. Raises ``DataDirUnusable`` with the operator's next step."""
    probe = data_dir / f".interlock-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"x")  # creating alone succeeds on a full disk; writing does not
        finally:
            os.close(fd)
            probe.unlink()
    except OSError as exc:
        raise _unwritable(data_dir.resolve(), exc) from exc
    if database.exists():
        problem = _integrity_problem(database)
        if problem is not None:
            raise DataDirUnusable(
                f"database {database.resolve()} is damaged ({problem}). Interlock did not "
                "start, so nothing more is lost. Keep the damaged file for inspection and "
                f"restore the last backup in its place ({BACKUP_HELP}), or move it aside to "
                "start with an empty history."
            )


def _integrity_problem(database: Path) -> str | None:
    try:
        conn = sqlite3.connect(database, isolation_level=None)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA quick_check(5)")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return f"{exc} ({getattr(exc, 'sqlite_errorname', type(exc).__name__)})"
    if rows == ["ok"]:
        return None
    return "PRAGMA quick_check: " + "; ".join(" ".join(r.split()) for r in rows)


def _unwritable(path: Path, exc: OSError) -> DataDirUnusable:
    return DataDirUnusable(
        f"data directory {path} is not writable ({exc.strerror or exc}). Make it writable "
        "for the user running Interlock (check the mount, permissions and free space), or "
        f"start with another --data-dir / INTERLOCK_DATA_DIR and restore a backup into it "
        f"({BACKUP_HELP})."
    )


def hold(data_dir: Path, database: Path) -> DataDirLock:
    """``acquire`` then, once per hold, ``check``: what a server does before its store opens."""
    lock = acquire(data_dir)
    try:
        if not lock.checked:
            check(lock.path, database)
            lock.checked = True
    except BaseException:
        lock.release()
        raise
    return lock


def guarded(
    lifespan: Callable[[A], AbstractAsyncContextManager[None]], data_dir: Path, database: Path
) -> Callable[[A], AbstractAsyncContextManager[None]]:
    """``lifespan`` run while holding ``data_dir`` (``hold``), released when it ends."""

    @asynccontextmanager
    async def run(app: A) -> AsyncIterator[None]:
        # quick_check reads the whole database: keep it off the event loop.
        lock = await asyncio.to_thread(hold, data_dir, database)
        try:
            async with lifespan(app):
                yield
        finally:
            lock.release()

    return run
