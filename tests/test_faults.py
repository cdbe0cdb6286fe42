"""The fault helpers themselves: they leave no mount behind and refuse what would mislead."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from tests.support.faults import locked_database, tmpfs, zero_page


def test_the_tmpfs_is_unmounted_when_the_test_fails(tmp_path: Path) -> None:
    mount = tmp_path / "disk"
    with pytest.raises(ZeroDivisionError), tmpfs(mount) as disk:
        assert os.path.ismount(disk.path)
        (disk.path / "f").write_text("x")
        _ = 1 / 0
    assert not os.path.ismount(mount)


def test_the_tmpfs_is_unmounted_even_with_a_file_still_open(tmp_path: Path) -> None:
    mount = tmp_path / "disk"
    with tmpfs(mount) as disk:
        held = (disk.path / "f").open("w")
    try:
        assert not os.path.ismount(mount)
    finally:
        held.close()


def test_a_full_tmpfs_refuses_new_blocks_until_drained(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", size="1m") as disk:
        with disk.full(), pytest.raises(OSError, match="No space left"):
            (disk.path / "f").write_bytes(b"x" * 8192)
        (disk.path / "f").write_bytes(b"x" * 8192)


def test_read_only_needs_no_file_open_for_writing(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        with disk.read_only(), pytest.raises(OSError, match="Read-only"):
            (disk.path / "f").write_text("x")
        with (disk.path / "f").open("w"), pytest.raises(RuntimeError, match="open for writing"):
            disk.remount(read_only=True)
        (disk.path / "g").write_text("writable again")


def test_a_locked_database_refuses_writers_until_released(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None, timeout=0)
    conn.execute("CREATE TABLE t (x)")
    with locked_database(db) as lock:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            conn.execute("INSERT INTO t VALUES (1)")
        lock.release()
        conn.execute("INSERT INTO t VALUES (1)")
    conn.close()


def test_zero_page_refuses_a_database_with_a_live_wal(tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite3"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    try:
        with pytest.raises(RuntimeError, match="holds frames"):
            zero_page(db, 2)
    finally:
        conn.close()
    zero_page(db, 2)  # the root page of t
    conn = sqlite3.connect(db)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="malformed"):
            conn.execute("SELECT * FROM t").fetchall()
    finally:
        conn.close()
