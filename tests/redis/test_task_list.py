"""GET /tasks with the server on Redis (records decoded from Redis hashes, not SQLite rows):
byte for byte what a TaskView per task serializes to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.test_tasks import check_varied_list, start_varied_tasks, varied_registry
from tests.support.redis import servers_on_redis
from tests.support.server import run_server


@pytest.fixture(scope="module", autouse=True)
def _servers_on_redis() -> Iterator[None]:
    with servers_on_redis():
        yield


async def test_the_list_is_what_task_views_give(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", registry=varied_registry(), max_concurrent=3) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            await start_varied_tasks(client)
            check_varied_list(await client.get("/tasks"))
