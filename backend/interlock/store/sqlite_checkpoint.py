"""``Checkpointer``: SQLite's WAL checkpoints on a thread and connection of their own.

In WAL mode SQLite copies the log back into the database file (a checkpoint) inside the
COMMIT that takes the log past ``wal_autocheckpoint`` pages, and that commit, with every
message of its batch, waits for the copying and two fsyncs: milliseconds, tens of them on a
busy disk, once every thousand pages. The checkpointer does the work beside the writer: the
first commit after a checkpoint wakes it, it lets :data:`INTERVAL` seconds of commits gather,
then runs PASSIVE checkpoints, which copy what is committed without ever blocking the writer,
until one finds nothing left to copy (then the writer starts the log afresh at its next
commit). The writer's own automatic checkpoint stays on as the backstop, raised to
:data:`BACKSTOP_PAGES`: a writer that never pauses long enough for the checkpointer to catch
up (a task streaming flat out) pays for a checkpoint once every 40 MB of log instead of
every 4 MB.

A checkpoint that fails loses nothing (the pages are safe in the log): it is logged and tried
again after the next commit.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger("interlock.store")

#: Seconds of commits one checkpoint gathers: a stream of commits costs one checkpoint (two
#: fsyncs) a second.
INTERVAL = 1.0
#: The writer's ``wal_autocheckpoint`` (pages of 4 KiB; SQLite's default is 1,000).
BACKSTOP_PAGES = 10_000
#: PASSIVE checkpoints in a row while the writer keeps adding pages (a pass that finds
#: nothing new to copy costs no fsync).
PASSES = 4


class Checkpointer:
    """Checkpoints the WAL of the database at ``path`` on its own daemon thread."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failing = False
        #: Set whenever a checkpoint found the whole log copied.
        self.caught_up = threading.Event()

    def committed(self) -> None:
        """A transaction was committed (called on the writer's thread; cheap while a
        checkpoint is already due)."""
        if self._wake.is_set() or self._stop.is_set():
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="interlock-checkpoint", daemon=True
            )
            self._thread.start()
        self.caught_up.clear()
        self._wake.set()

    def close(self, timeout: float) -> None:
        """Stop the thread and close its connection, waiting at most ``timeout`` seconds for
        a checkpoint in progress (it finishes on its own after that)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("a checkpoint of %s is still running; it ends on its own", self.path)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._wake.wait()
                if self._stop.wait(self.interval):
                    return
                self._wake.clear()  # commits from now on call for the next checkpoint
                try:
                    conn = conn or sqlite3.connect(self.path, isolation_level=None)
                    self._checkpoint(conn)
                except (sqlite3.Error, OSError) as exc:
                    if not self._failing:
                        log.warning(
                            "checkpoint of %s failed (tried again later): %s", self.path, exc
                        )
                    self._failing = True
                    if conn is not None:
                        conn.close()
                        conn = None
        finally:
            if conn is not None:
                conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        before = -1
        for _ in range(PASSES):
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if busy:
                return  # another checkpoint (the writer's own) is running
            if frames == copied == before:
                break  # nothing was added while the last pass copied
            before = frames
        else:
            return
        self._failing = False
        self.caught_up.set()
