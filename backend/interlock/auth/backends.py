"""Which ``AuthStore`` a server or an ``interlock users``/``tokens`` command uses.

Redis when ``INTERLOCK_REDIS_URL`` names one (users and credentials are then shared by every
instance on it, under ``INTERLOCK_REDIS_PREFIX``), else ``auth.sqlite3`` in the data
directory: the same choice as for the task store, so a command writes where the server reads.
"""

from __future__ import annotations

from pathlib import Path

from .redis import RedisAuthStore
from .sqlite import SQLiteAuthStore
from .store import AuthStore


def auth_store(
    data_dir: Path, *, redis_url: str | None, redis_prefix: str, timeout: float
) -> AuthStore:
    """The auth store for these settings (not open yet)."""
    if redis_url:
        return RedisAuthStore(redis_url, prefix=redis_prefix, timeout=timeout)
    return SQLiteAuthStore.in_dir(data_dir, timeout=timeout)
