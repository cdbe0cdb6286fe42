"""How motion tasks name the hardware they hold, so two tasks never drive the same axis.

A task type declares resources (``TaskRegistry.task(resources=...)``); the session manager
refuses (409) or queues a task whose resources overlap those of a running one, where a
resource also covers the ones under it: ``axis`` covers ``axis:x``.

* ``axis_resources("x")`` -> ``{"axis:x"}``: the task moves x. Tasks on x and on y may run
  side by side (when ``max_concurrent`` allows).
* ``CONTROLLER`` -> ``{"controller", "axis"}``: the whole controller, e.g. because the task
  reads the detector, whose signal depends on every axis. It conflicts with every axis task.
"""

from __future__ import annotations

from collections.abc import Iterable

AXIS = "axis"
CONTROLLER = frozenset({"controller", AXIS})


def axis_resources(*axes: str) -> frozenset[str]:
    """The resources of a task that moves ``axes``."""
    return frozenset(f"{AXIS}:{axis}" for axis in axes)


def held_axes(resources: Iterable[str], all_axes: Iterable[str]) -> list[str]:
    """The axes (of ``all_axes``, in that order) that a task holding ``resources`` may move."""
    held = set(resources)
    if AXIS in held:
        return list(all_axes)
    return [axis for axis in all_axes if f"{AXIS}:{axis}" in held]
