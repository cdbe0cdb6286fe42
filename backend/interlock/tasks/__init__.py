"""Task types: the registry and the built-in task families."""

from .registry import NoParameters, TaskRegistry, TaskType


def builtin_registry() -> TaskRegistry:
    """A registry holding every built-in task type."""
    from . import csv_scan, demo, motion

    registry = TaskRegistry()
    demo.register(registry)
    motion.register(registry)
    csv_scan.register(registry)
    return registry


__all__ = ["NoParameters", "TaskRegistry", "TaskType", "builtin_registry"]
