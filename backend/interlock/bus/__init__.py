"""Event fan-out: the ``EventBus`` interface and the in-memory implementation."""

from .base import EventBus, Subscriber
from .memory import MemoryBus

__all__ = ["EventBus", "MemoryBus", "Subscriber"]
