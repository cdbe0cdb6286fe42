"""The journal writes before it broadcasts, and rides out a failing store."""

from __future__ import annotations

from pathlib import Path

import httpx

from interlock.store import MemoryStore, WriteBatch
from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


class FailingStore(MemoryStore):
    """A store whose next ``failures`` writes raise, like a full disk that gets freed."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 0
        self.attempts = 0

    async def write(self, batch: WriteBatch) -> None:
        self.attempts += 1
        if self.failures:
            self.failures -= 1
            raise OSError("disk full")
        await super().write(batch)


async def test_messages_wait_for_a_failing_store_and_none_is_lost(tmp_path: Path) -> None:
    store = FailingStore()
    with run_server(tmp_path / "d", registry=make_registry(), store=store) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post(
                "/tasks", json={"task_type": "chatty", "parameters": {"count": 5, "pause": 0.01}}
            )
            sid = r.json()["task_id"]
            async with await WS.open(server.ws_url, sid) as ws:
                await ws.replay()
                store.failures = 3
                done = await ws.until("task_completed")
                seqs = [m["seq"] for m in ws.received if "seq" in m]
            saved = [m.seq for m in await store.load_messages(sid)]
    assert store.attempts >= 3 and store.failures == 0
    assert seqs == list(range(seqs[0], done["seq"] + 1))
    # Everything a tab saw was saved first.
    assert set(seqs) <= set(saved) and saved == list(range(1, done["seq"] + 1))
