"""Uploads no task used for a day are removed; one an unfinished task uses never is."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.exceptions import StoreUnavailable
from interlock.store import MemoryStore, TaskRecord
from interlock.uploads import UploadStore, UploadSweeper
from tests.api.test_uploads import registry_with_file_task, upload
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS

TTL = timedelta(hours=24)


class Clock:
    """The upload store's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, hours: float) -> None:
        self.now += timedelta(hours=hours)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(tmp_path: Path, clock: Clock) -> Iterator[LiveServer]:
    uploads = UploadStore(tmp_path / "data" / "uploads", ttl=TTL, clock=clock)
    with run_server(
        tmp_path / "data", registry=registry_with_file_task(), services={"uploads": uploads}
    ) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def sweep(server: LiveServer) -> list[str]:
    """One sweep, run on the server's loop as its periodic one is."""
    sweeper: UploadSweeper = server.app.state.upload_sweeper
    done = asyncio.run_coroutine_threadsafe(sweeper.sweep(), server.loop)
    removed: list[str] = await asyncio.wrap_future(done)
    return removed


async def start_read_doc(client: httpx.AsyncClient, upload_id: str) -> str:
    r = await client.post(
        "/tasks", json={"task_type": "read_doc", "parameters": {"doc": upload_id}}
    )
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def test_an_upload_lives_a_day_past_its_last_use(
    server: LiveServer, client: httpx.AsyncClient, clock: Clock
) -> None:
    unused = (await upload(client, "unused.txt", b"u"))["upload_id"]
    used = (await upload(client, "used.txt", b"v"))["upload_id"]
    clock.advance(20)
    task_id = await start_read_doc(client, used)
    async with await WS.open(server.ws_url, task_id) as ws:
        await ws.until("task_completed")
    clock.advance(5)  # 25 h after both uploads, 5 h after the task used one
    assert await sweep(server) == [unused]
    r = await client.post("/tasks", json={"task_type": "read_doc", "parameters": {"doc": unused}})
    assert r.status_code == 422 and "unknown upload" in r.json()["detail"][0]["msg"]
    assert not (server.settings.uploads_dir / unused).exists()
    assert (server.settings.uploads_dir / used).exists()
    clock.advance(18.5)
    assert await sweep(server) == []
    clock.advance(1)  # 24.5 h after its last use
    assert await sweep(server) == [used]
    assert sorted(p.name for p in server.settings.uploads_dir.iterdir()) == [".lock"]


async def test_an_upload_an_unfinished_task_uses_is_never_removed(
    server: LiveServer, client: httpx.AsyncClient, clock: Clock
) -> None:
    held = (await upload(client, "held.txt", b"h"))["upload_id"]
    r = await client.post("/tasks", json={"task_type": "confirm_doc", "parameters": {"doc": held}})
    assert r.status_code == 202  # it waits for a Yes: unfinished
    task_id = r.json()["task_id"]
    clock.advance(24 * 30)
    assert await sweep(server) == []
    assert (server.settings.uploads_dir / held).exists()
    assert (await client.delete(f"/tasks/{task_id}")).status_code == 200
    assert await sweep(server) == [held]


async def test_partial_and_orphaned_files_go_once_as_old(tmp_path: Path, clock: Clock) -> None:
    uploads = UploadStore(tmp_path, ttl=TTL, clock=clock)
    pending = await uploads.begin()
    pending.add(b"half")
    await pending.flush()
    orphan = tmp_path / ("f" * 32)  # bytes whose metadata a crash did not write
    orphan.write_bytes(b"x")
    clock.now = datetime.now(UTC)
    assert await uploads.sweep() == []  # a partial file may still be streaming in
    assert pending.path.exists() and orphan.exists()
    clock.advance(25)
    assert await uploads.sweep() == []  # no upload: these never were ones
    assert not pending.path.exists() and not orphan.exists()
    pending.close(sync=False)


class UnreadableStore(MemoryStore):
    """A store that cannot list the unfinished tasks right now."""

    async def unfinished_tasks(self) -> list[TaskRecord]:
        raise StoreUnavailable("the database is locked")


async def test_nothing_is_removed_while_the_store_cannot_say_what_is_in_use(
    tmp_path: Path, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    uploads = UploadStore(tmp_path, ttl=TTL, clock=clock)
    pending = await uploads.begin()
    stale = await uploads.commit(
        pending, filename="a.txt", content_type="text/plain", uploaded_by=None
    )
    clock.advance(48)
    sweeper = UploadSweeper(uploads, UnreadableStore())
    with pytest.raises(StoreUnavailable):
        await sweeper.sweep()
    sweeper.start()  # the periodic sweep logs it and goes on
    await _until(lambda: "not sweeping uploads" in caplog.text)
    await sweeper.stop()
    assert await uploads.get(stale.upload_id) is not None


async def _until(condition: Any) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)
