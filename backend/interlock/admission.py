"""Admission rules: when two tasks may run side by side, given the resources they hold.

Pure functions, so the rules are tested without a server (``tests/test_admission.py``).
"""

from __future__ import annotations


def resources_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two tasks needing ``a`` and ``b`` collide: they share a resource, or one needs
    a resource the other needs part of (``axis`` covers ``axis:x``, so a task holding every
    axis conflicts with one holding x; ``axis:x`` and ``axis:y`` do not conflict)."""
    return bool(a & _with_parents(b)) or bool(b & _with_parents(a))


def _with_parents(resources: frozenset[str]) -> set[str]:
    out = set(resources)
    for resource in resources:
        parts = resource.split(":")
        out.update(":".join(parts[:i]) for i in range(1, len(parts)))
    return out
