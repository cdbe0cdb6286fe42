"""The machine's Redis for tests: each user gets its own key prefix and deletes it after.

Tests that need Redis are skipped when 127.0.0.1:6379 does not answer, unless
``INTERLOCK_REQUIRE_REDIS=1`` (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import redis

URL = os.environ.get("INTERLOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def require_redis(url: str = URL) -> str:
    """``url`` if a Redis answers there; else skip the test (fail with the requirement)."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("INTERLOCK_REQUIRE_REDIS") == "1":
            pytest.fail(f"INTERLOCK_REQUIRE_REDIS=1 but Redis at {url} does not answer: {exc}")
        pytest.skip(f"Redis at {url} does not answer: {exc}")
    finally:
        client.close()
    return url


def new_prefix() -> str:
    return f"interlock-test:{uuid.uuid4().hex[:12]}:"


def delete_prefix(prefix: str, url: str = URL) -> None:
    """Delete every key under ``prefix``."""
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
        for start in range(0, len(keys), 500):
            client.unlink(*keys[start : start + 500])
    finally:
        client.close()


@contextmanager
def redis_prefix(url: str = URL) -> Iterator[str]:
    """A fresh key prefix on a Redis that answers (else skip), deleted afterwards."""
    require_redis(url)
    prefix = new_prefix()
    try:
        yield prefix
    finally:
        delete_prefix(prefix, url)


#: While set (``servers_on_redis``), ``run_server`` starts its servers on Redis, each under a
#: fresh prefix it deletes when the server stops: how the protocol tests run on Redis too.
ON_REDIS: list[str] = []


@contextmanager
def servers_on_redis(url: str = URL) -> Iterator[None]:
    require_redis(url)
    ON_REDIS.append(url)
    try:
        yield
    finally:
        ON_REDIS.remove(url)


class RedisServer:
    """A ``redis-server`` of the test's own, on a Unix socket in ``directory`` (no port to
    pick and race for), with the append-only file on: ``kill`` it, ``start`` it again and it
    reloads what it had acknowledged."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def start(self) -> RedisServer:
        if shutil.which("redis-server") is None:
            if os.environ.get("INTERLOCK_REQUIRE_REDIS") == "1":
                pytest.fail("INTERLOCK_REQUIRE_REDIS=1 but redis-server is not installed")
            pytest.skip("redis-server is not installed")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port", "0",
                "--unixsocket", str(self.socket),
                "--dir", str(self.directory),
                "--appendonly", "yes",
                "--appendfsync", "always",
                "--save", "",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        assert self.process.stdout is not None
        seen = []
        for raw in self.process.stdout:  # the log line it writes once it takes clients
            seen.append(raw.decode(errors="replace"))
            if "ready to accept connections" in seen[-1].lower():
                break
        else:
            raise RuntimeError(f"redis-server did not start: {''.join(seen)}")
        threading.Thread(target=self.process.stdout.read, daemon=True).start()  # drain it
        return self

    def kill(self) -> None:
        """``kill -9``: no shutdown, no final save."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.kill()
