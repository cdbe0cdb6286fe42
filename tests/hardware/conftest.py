from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from interlock.hardware import SimulatedController
from tests.hardware.support import RecordingController
from tests.support.server import LiveServer, run_server


@pytest.fixture
def hw() -> RecordingController:
    """The server's controller: the simulator, recorded. Accelerating ten times faster than
    the default keeps a stop to milliseconds, so the tests wait on logic, not physics."""
    return RecordingController(SimulatedController(acceleration=200_000.0))


@pytest.fixture
def server(tmp_path: Path, hw: RecordingController) -> Iterator[LiveServer]:
    """A real server driving ``hw``; up to four tasks at once, so axes decide conflicts."""
    with run_server(tmp_path / "data", services={"controller": hw}, max_concurrent=4) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http
