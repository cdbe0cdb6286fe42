"""Roles, from least to most allowed. Each role may do everything the ones below it may.

* ``viewer`` sees everything, watches sessions, and may ``POST /hardware/stop``: anyone who
  can see may stop; only operators may move.
* ``operator`` also starts and cancels tasks and answers prompts.
* ``admin`` also manages users and anyone's tokens.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    VIEWER = "viewer"
    OPERATOR = "operator"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        """Whether someone with this role may do what ``needed`` may."""
        return self.rank >= needed.rank


_RANKS = {Role.VIEWER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}
