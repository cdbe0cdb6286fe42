"""``ConnectionRegistry``: the open WebSockets, by the credential that opened them.

Every accepted WebSocket is registered with the identity its handshake proved (``LOCAL``
when authentication is off, with no credential). Revoking a credential (a token, a login
session, or all of a removed user's) closes its connections with :data:`CREDENTIAL_REVOKED`;
a role change updates their identity in place, so the next message is judged by the new
role. Everything here runs on the event loop: no locks, and ``close`` callbacks must not
block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .identity import Identity

#: WebSocket close code: the credential that opened the connection is no longer valid
#: (revoked, expired, logged out, or its user removed). Sign in again and reconnect.
CREDENTIAL_REVOKED = 4401


@dataclass(eq=False, slots=True)
class Registration:
    """One WebSocket. ``identity`` is current: a role change replaces it. ``closed`` is the
    (code, reason) it was closed with by the registry, if it was."""

    identity: Identity
    client: str | None
    closed: tuple[int, str] | None = None
    _closer: Callable[[int, str], None] | None = None

    def bind(self, closer: Callable[[int, str], None]) -> None:
        """How to close the connection (``closer(code, reason)`` must not block); a close
        that came before is applied now."""
        self._closer = closer
        if self.closed is not None:
            closer(*self.closed)

    def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
            if self._closer is not None:
                self._closer(code, reason)


class ConnectionRegistry:
    """The registered connections; see the module docstring."""

    def __init__(self) -> None:
        self._by_credential: dict[str | None, set[Registration]] = {}

    def add(self, identity: Identity, client: str | None) -> Registration:
        """Register a connection, at once after its handshake was authenticated (with no
        ``await`` in between, so no revocation can slip through), then ``bind`` it once it
        can be closed. Call ``remove`` when the connection has ended."""
        registration = Registration(identity, client)
        self._by_credential.setdefault(identity.credential, set()).add(registration)
        return registration

    def remove(self, registration: Registration) -> None:
        key = registration.identity.credential
        group = self._by_credential.get(key)
        if group is not None:
            group.discard(registration)
            if not group:
                del self._by_credential[key]

    def count(self) -> int:
        """How many connections are registered (open WebSockets)."""
        return sum(len(group) for group in self._by_credential.values())

    def credentials(self) -> list[str]:
        """The credentials with at least one open connection."""
        return [key for key in self._by_credential if key is not None]

    def close_credential(self, credential: str, reason: str) -> int:
        """Close every connection of ``credential`` with ``CREDENTIAL_REVOKED``; how many.
        They stay registered until their handlers end and ``remove`` them."""
        group = self._by_credential.get(credential, set())
        for registration in list(group):
            registration.close(CREDENTIAL_REVOKED, reason)
        return len(group)

    def set_identity(self, identity: Identity) -> None:
        """The connections of ``identity.credential`` act as ``identity`` from now on."""
        for registration in self._by_credential.get(identity.credential, set()):
            registration.identity = identity

    def __iter__(self) -> Iterator[Registration]:
        for group in list(self._by_credential.values()):
            yield from list(group)

    def __len__(self) -> int:
        return sum(len(group) for group in self._by_credential.values())
