from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.auth import People, seed
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry


@pytest.fixture
async def people(tmp_path: Path) -> People:
    """vera (viewer), otto (operator), ada (admin) in the data dir's auth store."""
    return await seed(tmp_path / "data")


@pytest.fixture
def auth_server(people: People) -> Iterator[LiveServer]:
    """A real server with ``INTERLOCK_AUTH=true`` on the people's data dir."""
    with run_server(people.data_dir, registry=make_registry(), auth=True) as live:
        yield live


@pytest.fixture
async def anon(auth_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client with no credentials (give ``headers=`` per request)."""
    async with httpx.AsyncClient(base_url=auth_server.url, timeout=10) as http:
        yield http
