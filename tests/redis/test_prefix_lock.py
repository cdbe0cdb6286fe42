"""One server per Redis prefix: a second one would interrupt the first one's live tasks."""

from __future__ import annotations

from pathlib import Path

import pytest

from interlock.exceptions import StoreError
from interlock.store.redis_lock import PrefixLock
from tests.support.redis import URL, redis_prefix
from tests.support.server import run_server
from tests.support.tasks import make_registry


async def test_a_second_server_on_the_prefix_is_refused_until_the_first_stops(
    tmp_path: Path,
) -> None:
    with redis_prefix() as prefix:
        with run_server(
            tmp_path / "data", registry=make_registry(), redis_url=URL, redis_prefix=prefix
        ):
            contender = PrefixLock(URL, prefix, lease=0.3)
            with pytest.raises(StoreError, match=r"another Interlock server .* uses the Redis"):
                await contender.acquire()
        after = PrefixLock(URL, prefix, lease=0.3)
        await after.acquire()  # the first released its claim when it stopped
        await after.release()
