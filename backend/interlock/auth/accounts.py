"""``Accounts``: what the ``users``/``tokens`` commands and the ``/auth`` routes do with an
``AuthStore``: check names, hash passwords, make secrets (returned once, stored as digests).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from ..exceptions import UnknownToken, UnknownUser
from .credentials import (
    check_name,
    digest,
    hash_password,
    looks_like_secret,
    new_login,
    new_token,
    verify_password,
)
from .roles import Role
from .store import AuthStore, CredentialKind, CredentialRecord, Grant, User, utcnow

#: Password checks running at once: each takes tens of milliseconds of CPU and 64 MiB, so a
#: burst of logins must not take every core (or the memory) from the rest of the server.
CONCURRENT_HASHES = 2


class Accounts:
    """User and credential management on ``store``. Raises ``AuthError`` subclasses
    (``InvalidName``, ``InvalidPassword``, ``UnknownUser``, ``DuplicateUser``,
    ``UnknownToken``) with messages meant for people."""

    def __init__(self, store: AuthStore) -> None:
        self.store = store
        self._hashing = asyncio.Semaphore(CONCURRENT_HASHES)

    async def _hash(self, password: str) -> str:
        async with self._hashing:
            return await asyncio.to_thread(hash_password, password)

    # ----------------------------------------------------------------------------- users

    async def add_user(self, name: str, role: Role, password: str | None = None) -> User:
        """A new user; with no password, one who authenticates with tokens only."""
        check_name(name)
        password_hash = None if password is None else await self._hash(password)
        return await self.store.add_user(name, role, password_hash)

    async def set_password(self, name: str, password: str) -> None:
        """Replace the password (ends the user's login sessions)."""
        await self.store.set_password(name, await self._hash(password))

    # ---------------------------------------------------------------------------- tokens

    async def create_token(
        self, user: str, expires_days: float | None = None
    ) -> tuple[CredentialRecord, str]:
        """A new API token of ``user``: its record and the token itself (show it once)."""
        if expires_days is not None and expires_days <= 0:
            raise ValueError("expires_days must be positive")
        expires_at = None if expires_days is None else utcnow() + timedelta(days=expires_days)
        secret = new_token()
        record = await self.store.add_credential(
            CredentialKind.TOKEN, user, digest(secret), expires_at
        )
        return record, secret

    async def tokens(self, user: str | None = None) -> list[CredentialRecord]:
        """API tokens (of ``user``, or everyone's), revoked and expired ones included.
        ``UnknownUser`` for a user who does not exist."""
        if user is not None and await self.store.get_user(user) is None:
            raise UnknownUser(user)
        return await self.store.list_credentials(CredentialKind.TOKEN, user)

    async def revoke_token(self, token_id: str, *, owner: str | None = None) -> bool:
        """Revoke an API token (only ``owner``'s, when given): True when it was active,
        False when it was revoked already. ``UnknownToken`` otherwise."""
        record = await self.store.get_credential(token_id)
        if (
            record is None
            or record.kind is not CredentialKind.TOKEN
            or (owner is not None and record.user != owner)
        ):
            raise UnknownToken(token_id)
        return await self.store.revoke(token_id)

    # ---------------------------------------------------------------------- login sessions

    async def login(
        self, name: str, password: str, lifetime: timedelta
    ) -> tuple[Grant, str] | None:
        """A new login session when ``password`` is ``name``'s: what it grants and its
        secret (the cookie value). None otherwise, after as long as a real check takes."""
        user = await self.store.get_user(name)
        async with self._hashing:
            ok = await asyncio.to_thread(
                verify_password, user.password_hash if user else None, password
            )
        if not ok or user is None:
            return None
        secret = new_login()
        try:
            record = await self.store.add_credential(
                CredentialKind.LOGIN, name, digest(secret), utcnow() + lifetime
            )
        except UnknownUser:  # removed meanwhile
            return None
        grant = Grant(record.id, record.kind, name, user.role, record.expires_at)
        return grant, secret

    async def logout(self, secret: str) -> str | None:
        """End the login session (or revoke the token) ``secret`` is; its id, or None."""
        if not looks_like_secret(secret):
            return None
        return await self.store.revoke_digest(digest(secret))
