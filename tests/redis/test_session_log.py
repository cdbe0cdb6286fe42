"""The whole-session-log routes again, with the servers on Redis: GET /tasks/{id}/messages
pages the ``P{sid}:log`` stream (XRANGE / XREVRANGE), GET /tasks filters and pages on the
sorted-set indexes.

The tests are the very functions of ``tests/api/test_session_log.py``; an autouse fixture
makes every server they start keep its sessions in Redis under a prefix of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_session_log import *  # noqa: F403
from tests.support.redis import servers_on_redis


@pytest.fixture(scope="module", autouse=True)
def _servers_on_redis() -> Iterator[None]:
    with servers_on_redis():
        yield
