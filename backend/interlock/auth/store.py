"""The ``AuthStore`` interface: users, their API tokens and their login sessions.

Guarantees every implementation gives (``tests/auth/test_store_contract.py`` holds them):

* **No secret in the clear.** Tokens and login secrets arrive as their SHA-256 digest
  (``credentials.digest``) and passwords as an argon2 hash; nothing else of them is ever
  given to the store, so nothing else can be kept.
* **Shared by processes.** The server reads while ``interlock users``/``tokens`` commands
  write, each through its own instance: a committed change is seen by every instance's next
  call. Each write is atomic.
* **A change counter.** ``generation()`` grows with every change that can take rights away
  from a credential in use (revoking, logging out, removing a user, changing a role or a
  password). A server polls it, cheaply, to close the WebSockets of what was revoked by
  another process. Creating users or credentials need not move it.
* **Validity in one place.** ``grant`` and ``grant_for_digest`` return a credential only
  while it is valid: not revoked, not expired, its user still there; with the user's
  current role.
* Methods are coroutine-safe and bounded in time like ``interlock.store.Store``'s
  (``StoreUnavailable`` when the store cannot answer now; ``StoreError`` when it never will).
  Failures of the request itself are ``AuthError`` subclasses: ``UnknownUser``,
  ``DuplicateUser``, ``UnknownToken``.
"""

from __future__ import annotations

import abc
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from .identity import Identity
from .roles import Role


class CredentialKind(enum.StrEnum):
    TOKEN = "token"  # an API token (Authorization: Bearer)
    LOGIN = "login"  # a login session (the console's cookie)


@dataclass(frozen=True, slots=True)
class User:
    """A person (or program) who may sign in. ``password_hash`` is None for a user who
    authenticates with tokens only."""

    name: str
    role: Role
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A token or login session as stored (never its secret)."""

    id: str
    kind: CredentialKind
    user: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def state(self, now: datetime | None = None) -> str:
        """``revoked``, ``expired`` or ``active``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or utcnow()):
            return "expired"
        return "active"


@dataclass(frozen=True, slots=True)
class Grant:
    """What a valid credential grants: who, with which role, until when."""

    credential: str
    kind: CredentialKind
    user: str
    role: Role
    expires_at: datetime | None

    def identity(self) -> Identity:
        return Identity(user=self.user, role=self.role, credential=self.credential)

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


def utcnow() -> datetime:
    return datetime.now(UTC)


class AuthStore(abc.ABC):
    """Users and credentials; see the module docstring for the guarantees."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Make the store ready (create what is missing). Call once, before anything else."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release the store; no call may follow."""

    # ----------------------------------------------------------------------------- users

    @abc.abstractmethod
    async def add_user(self, name: str, role: Role, password_hash: str | None) -> User:
        """Add a user. ``DuplicateUser`` when the name is taken."""

    @abc.abstractmethod
    async def get_user(self, name: str) -> User | None:
        """The user called ``name`` (exactly: names are case-sensitive), or None."""

    @abc.abstractmethod
    async def list_users(self) -> list[User]:
        """Every user, by name."""

    @abc.abstractmethod
    async def set_role(self, name: str, role: Role) -> User:
        """Change a user's role; the user's credentials carry the new role from now on.
        ``UnknownUser``."""

    @abc.abstractmethod
    async def set_password(self, name: str, password_hash: str | None) -> None:
        """Replace (or, with None, remove) a user's password; ends the user's login
        sessions. ``UnknownUser``."""

    @abc.abstractmethod
    async def remove_user(self, name: str) -> None:
        """Remove a user with every token and login session of theirs. ``UnknownUser``."""

    # ----------------------------------------------------------------------- credentials

    @abc.abstractmethod
    async def add_credential(
        self,
        kind: CredentialKind,
        user: str,
        secret_digest: str,
        expires_at: datetime | None,
    ) -> CredentialRecord:
        """Store a new credential of ``user`` by the digest of its secret. ``UnknownUser``."""

    @abc.abstractmethod
    async def list_credentials(
        self, kind: CredentialKind, user: str | None = None
    ) -> list[CredentialRecord]:
        """Credentials of one kind (of one user, or everyone's), oldest first, revoked and
        expired ones included."""

    @abc.abstractmethod
    async def get_credential(self, credential_id: str) -> CredentialRecord | None:
        """One credential by its public id, whatever its state."""

    @abc.abstractmethod
    async def revoke(self, credential_id: str) -> bool:
        """Revoke a credential: True when it was not revoked yet, False when it already
        was. ``UnknownToken`` when there is no such id."""

    @abc.abstractmethod
    async def revoke_digest(self, secret_digest: str) -> str | None:
        """Revoke the credential with this secret (logging out); its id, or None when
        there is no such credential or it was revoked already."""

    @abc.abstractmethod
    async def touch(self, used: Mapping[str, datetime]) -> None:
        """Record when credentials were last used (id -> time), in one write."""

    @abc.abstractmethod
    async def prune(self, before: datetime) -> int:
        """Forget login sessions that expired or were revoked before ``before``; returns
        how many. Tokens are kept (``tokens list`` shows revoked ones)."""

    # ------------------------------------------------------------------------- checking

    @abc.abstractmethod
    async def grant_for_digest(self, secret_digest: str) -> Grant | None:
        """What the secret with this digest grants now, or None when it grants nothing."""

    @abc.abstractmethod
    async def grant(self, credential_id: str) -> Grant | None:
        """What the credential ``credential_id`` grants now, or None (revoked, expired,
        user removed, unknown)."""

    @abc.abstractmethod
    async def generation(self) -> int:
        """The change counter (see the module docstring). Cheap: polled a few times a
        second."""
