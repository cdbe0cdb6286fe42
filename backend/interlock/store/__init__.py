"""Durable storage: the ``Store`` interface and its implementations."""

from .base import (
    Artifact,
    MessagePage,
    RequestRecord,
    Store,
    StoredMessage,
    TaskFilter,
    TaskRecord,
    WriteBatch,
)
from .memory import MemoryStore
from .redis import RedisStore
from .sqlite import SQLiteStore

__all__ = [
    "Artifact",
    "MemoryStore",
    "MessagePage",
    "RedisStore",
    "RequestRecord",
    "SQLiteStore",
    "Store",
    "StoredMessage",
    "TaskFilter",
    "TaskRecord",
    "WriteBatch",
]
