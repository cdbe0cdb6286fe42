"""Event fan-out: the ``EventBus`` interface, the in-memory and the Redis implementation."""

from .base import EventBus, Subscriber
from .memory import MemoryBus
from .redis import RedisBus

__all__ = ["EventBus", "MemoryBus", "RedisBus", "Subscriber"]
