"""Durable storage: the ``Store`` interface and its implementations."""

from .base import Artifact, RequestRecord, Store, StoredMessage, TaskRecord, WriteBatch
from .memory import MemoryStore
from .sqlite import SQLiteStore

__all__ = [
    "Artifact",
    "MemoryStore",
    "RequestRecord",
    "SQLiteStore",
    "Store",
    "StoredMessage",
    "TaskRecord",
    "WriteBatch",
]
