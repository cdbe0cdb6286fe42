"""Who is asking: roles, identities, and (with ``INTERLOCK_AUTH=true``) users and tokens."""

from .identity import LOCAL, Identity
from .roles import Role

__all__ = ["LOCAL", "Identity", "Role"]
