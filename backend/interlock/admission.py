"""Admission rules: when a task may start, given what runs, what waits and the slots.

Pure functions over anything with a ``resources`` set (sessions, in the server), so the rules
are tested without a server (``tests/test_admission.py``):

* two tasks collide when their resources overlap (``resources_overlap``);
* a task starts now unless a running task holds something it needs or every slot is taken
  (``blocker``);
* first come, first served: a queued task waits behind an earlier queued one that needs
  something it needs too (``queued_ahead``, ``to_start``), so a big task is not starved by
  small ones overtaking it. A task needing nothing the earlier ones need may pass them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Protocol, TypeVar


class Holder(Protocol):
    """A task as admission sees it: the resources it needs while it runs."""

    @property
    def resources(self) -> frozenset[str]: ...


H = TypeVar("H", bound=Holder)


def resources_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two tasks needing ``a`` and ``b`` collide: they share a resource, or one needs
    a resource the other needs part of (``axis`` covers ``axis:x``, so a task holding every
    axis conflicts with one holding x; ``axis:x`` and ``axis:y`` do not conflict)."""
    return bool(a & _with_parents(b)) or bool(b & _with_parents(a))


def blocker(needs: frozenset[str], running: Collection[H], max_concurrent: int) -> H | None:
    """The running task that keeps a task needing ``needs`` from starting now: the first
    one (in ``running``'s order) holding something it needs, else, when ``max_concurrent``
    tasks run already, the first one. None when it may start.

    A task needing nothing is decided without looking at each running task, so admitting
    one costs the same with 10 or 10,000 tasks running."""
    if needs:
        for other in running:
            if other.resources and resources_overlap(other.resources, needs):
                return other
    if running and len(running) >= max_concurrent:
        return next(iter(running))
    return None


def queued_ahead(needs: frozenset[str], queue: Iterable[H]) -> H | None:
    """The first queued task needing something a new task needing ``needs`` needs too: the
    new task queues behind it rather than overtake it, though it could start now."""
    return next((waiting for waiting in queue if resources_overlap(waiting.resources, needs)), None)


def to_start(queue: Sequence[H], running: Iterable[H], max_concurrent: int) -> list[H]:
    """The queued tasks that start now, in queue order.

    Each is checked against what runs plus those started before it (``blocker``) and against
    every earlier task that stays queued: a task may pass one that waits, unless it needs
    something that one needs too; then it waits its turn."""
    if not queue:
        return []
    occupied = list(running)
    reserved: frozenset[str] = frozenset()
    starting: list[H] = []
    for waiting in queue:
        if blocker(waiting.resources, occupied, max_concurrent) is None and not resources_overlap(
            reserved, waiting.resources
        ):
            starting.append(waiting)
            occupied.append(waiting)
        else:
            reserved |= waiting.resources
    return starting


def _with_parents(resources: frozenset[str]) -> set[str]:
    out = set(resources)
    for resource in resources:
        parts = resource.split(":")
        out.update(":".join(parts[:i]) for i in range(1, len(parts)))
    return out
