"""``Identity``: who sent a request or a WebSocket message, as the session layer sees it."""

from __future__ import annotations

from dataclasses import dataclass

from .roles import Role


@dataclass(frozen=True, slots=True)
class Identity:
    """A caller. ``user`` is None only when authentication is off (``LOCAL``).

    ``credential`` names what proved it (a token id or a login session id), so revoking that
    credential can find the connections it opened.
    """

    user: str | None
    role: Role
    credential: str | None = None

    def allows(self, needed: Role) -> bool:
        return self.role.allows(needed)

    @property
    def named_role(self) -> Role | None:
        """The role to record in an audit (``answered_by.role``): None when authentication
        is off, where nobody is identified and ``LOCAL``'s admin role says nothing."""
        return self.role if self.user is not None else None


#: Everyone, when ``INTERLOCK_AUTH`` is off: the server trusts whoever reaches it (it then
#: listens on loopback only, unless ``INTERLOCK_ALLOW_NO_AUTH`` accepts the risk).
LOCAL = Identity(user=None, role=Role.ADMIN)
