from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    """A real server with built-in and test task types, on a fresh SQLite file."""
    with run_server(tmp_path / "data", registry=make_registry()) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http
