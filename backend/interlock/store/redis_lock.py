"""One server per Redis prefix, as one server per data directory (``datadir.py``).

Until tasks have owners with leases (issue 9's workers), a server that starts recovers every
unfinished task it finds as ``interrupted``: a second server on the same prefix would end
the first one's live tasks. So a server holds ``Pserver`` (its id, host and pid) with a
lease it renews; another one waits up to a lease for it to lapse (a crashed server's) and
then refuses to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from typing import Any

from redis.exceptions import RedisError

from ..exceptions import StoreError
from .redis import connect

log = logging.getLogger("interlock.store")

#: Seconds a holder's claim lasts unless renewed (every third of it).
LEASE = 10.0

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class PrefixLock:
    """The claim of one server on ``prefix``; ``acquire`` then ``release``."""

    def __init__(self, url: str, prefix: str, *, lease: float = LEASE) -> None:
        self.key = f"{prefix}server"
        self.prefix = prefix
        self.lease = lease
        self.holder = f"{socket.gethostname()} pid {os.getpid()} ({uuid.uuid4().hex[:8]})"
        self._redis: Any = connect(url, lease / 2)
        self._renew = self._redis.register_script(_RENEW)
        self._release = self._redis.register_script(_RELEASE)
        self._task: asyncio.Task[None] | None = None

    async def acquire(self) -> None:
        """Claim the prefix, waiting up to a lease for another claim to lapse; else
        ``StoreError`` naming the holder."""
        ms = int(self.lease * 1000)
        deadline = asyncio.get_running_loop().time() + self.lease + 1
        try:
            while not await self._redis.set(self.key, self.holder, nx=True, px=ms):
                if asyncio.get_running_loop().time() > deadline:
                    other = await self._redis.get(self.key)
                    raise StoreError(
                        f"another Interlock server ({(other or b'?').decode()}) uses the "
                        f"Redis prefix {self.prefix!r}: one server per prefix (instances "
                        "sharing sessions are not supported yet); stop it or set another "
                        "INTERLOCK_REDIS_PREFIX"
                    )
                await asyncio.sleep(self.lease / 10)
        except RedisError as exc:
            await self._redis.aclose()
            raise StoreError(f"Redis does not answer: {exc}") from exc
        except BaseException:
            await self._redis.aclose()
            raise
        self._task = asyncio.create_task(self._keep(), name="interlock-prefix-lock")

    async def _keep(self) -> None:
        while True:
            await asyncio.sleep(self.lease / 3)
            try:
                if not await self._renew([self.key], [self.holder, int(self.lease * 1000)]):
                    log.error("another server holds the Redis prefix %r", self.prefix)
            except RedisError as exc:
                log.warning("renewing the claim on the Redis prefix failed: %s", exc)

    async def release(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(RedisError):
            await self._release([self.key], [self.holder])
        await self._redis.aclose()
