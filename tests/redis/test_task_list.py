"""GET /tasks byte for byte as each task's own route, with the server on Redis (records
decoded from Redis hashes, not SQLite rows)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_tasks import (
    test_the_list_shows_each_task_exactly_as_its_own_route_does as test_on_redis,
)
from tests.support.redis import servers_on_redis

__all__ = ["test_on_redis"]


@pytest.fixture(scope="module", autouse=True)
def _servers_on_redis() -> Iterator[None]:
    with servers_on_redis():
        yield
