"""The WebSocket protocol, replay and answer tests again, with the servers on Redis.

The tests are the very functions of ``tests/api``; an autouse fixture makes every server
they start keep its sessions in Redis (store and bus) under a prefix of its own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.api.test_answers import *  # noqa: F403
from tests.api.test_replay import *  # noqa: F403
from tests.api.test_ws_protocol import *  # noqa: F403
from tests.support.redis import servers_on_redis

# These lock the SQLite file to make the store fail; tests/redis/test_faults.py fails Redis.
del test_an_answer_while_the_store_fails_is_refused_and_nothing_acts  # noqa: F821
del test_a_task_is_not_accepted_while_the_store_fails  # noqa: F821
del test_a_prompt_is_neither_shown_nor_answerable_before_it_is_stored  # noqa: F821


@pytest.fixture(scope="module", autouse=True)
def _servers_on_redis() -> Iterator[None]:
    with servers_on_redis():
        yield
