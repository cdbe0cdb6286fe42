"""WAL checkpoints run beside the writer: commits reach the database file without a commit
copying them, and closing the store still leaves no log behind."""

from __future__ import annotations

import asyncio
from pathlib import Path

from interlock.store import SQLiteStore, StoredMessage, WriteBatch
from tests.store.test_contract import task


async def test_commits_reach_the_database_file_without_the_writer_checkpointing(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "s.sqlite3")
    store.checkpointer.interval = 0.5
    await store.open()
    try:
        marker = "only-in-the-log-until-checkpointed"
        message = StoredMessage("a", 1, "stream", marker)
        await store.write(WriteBatch(tasks=[task("a")], messages=[message]))
        assert marker.encode() not in store.path.read_bytes()  # the commit copied nothing
        assert await asyncio.to_thread(store.checkpointer.caught_up.wait, 10)
        assert marker.encode() in store.path.read_bytes()
        assert [m.data for m in await store.load_messages("a")] == [marker]
    finally:
        await store.close()
    wal = store.path.with_name(store.path.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0
