"""A Redis prefix of this bench run's own: the servers it starts keep their sessions under it.

Redis is the machine's (``--redis``, default 127.0.0.1:6379); every key under the prefix is
deleted when the block ends, whatever the servers left.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def on_redis(url: str = DEFAULT_URL) -> Iterator[str]:
    """Servers started in the block (they read the environment) use Redis at ``url`` under a
    fresh prefix, which is returned."""
    prefix = f"interlock-bench:{uuid.uuid4().hex[:8]}:"
    os.environ.update(INTERLOCK_REDIS_URL=url, INTERLOCK_REDIS_PREFIX=prefix)
    try:
        yield prefix
    finally:
        del os.environ["INTERLOCK_REDIS_URL"], os.environ["INTERLOCK_REDIS_PREFIX"]
        delete_prefix(url, prefix)


def delete_prefix(url: str, prefix: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for i in range(0, len(keys), 1000):
            client.unlink(*keys[i : i + 1000])
    finally:
        client.close()
