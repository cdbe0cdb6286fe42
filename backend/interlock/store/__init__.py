"""Durable storage: the ``Store`` interface and its implementations."""

from .base import Artifact, RequestRecord, StoredMessage, Store, TaskRecord, WriteBatch
from .sqlite import SQLiteStore

__all__ = [
    "Artifact",
    "RequestRecord",
    "SQLiteStore",
    "Store",
    "StoredMessage",
    "TaskRecord",
    "WriteBatch",
]
