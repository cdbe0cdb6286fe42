"""``StoreAuthenticator``: the ``Authenticator`` of ``INTERLOCK_AUTH=true``, on an
``AuthStore``; and the watch that closes the WebSockets of revoked credentials.

Cheap per request: what a secret grants is cached in memory (by its digest), and the cache
is dropped whenever the store's change counter moves. ``watch`` polls that counter every
:data:`POLL_INTERVAL` seconds, so a revocation made by another process (``interlock tokens
revoke``) takes effect within about that long: requests with the credential get 401, and
its open WebSockets are closed with 4401. Revocations made through this server act at once.

When a token was last used is written at most once per :data:`USAGE_INTERVAL` per token,
in one batch, not once per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

from starlette.requests import HTTPConnection

from ..exceptions import StoreError
from .credentials import digest, looks_like_secret
from .identity import Identity
from .registry import ConnectionRegistry
from .store import AuthStore, CredentialKind, Grant, utcnow

log = logging.getLogger("interlock.auth")

#: The console's login-session cookie.
COOKIE = "interlock_session"
#: Seconds between two looks at the store's change counter.
POLL_INTERVAL = 0.3
#: Seconds between two writes of one token's ``last_used_at``.
USAGE_INTERVAL = 60.0
#: Secrets whose grants are cached at most (past it the cache starts afresh).
CACHE_LIMIT = 10_000


def presented_secret(connection: HTTPConnection) -> str | None:
    """The secret a request carries: ``Authorization: Bearer <token>``, else the session
    cookie. A malformed ``Authorization`` header is taken as wrong credentials (None), not
    as absent: it never falls back to the cookie."""
    header = connection.headers.get("authorization")
    if header is not None:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        return value if scheme.lower() == "bearer" and value else None
    return connection.cookies.get(COOKIE)


class StoreAuthenticator:
    """Checks credentials against ``store``; closes revoked ones' connections in
    ``registry`` (see the module docstring)."""

    def __init__(self, store: AuthStore, registry: ConnectionRegistry) -> None:
        self.store = store
        self.registry = registry
        self._grants: dict[str, Grant] = {}  # digest -> what it grants
        self._expiry: dict[str, datetime] = {}  # credential id -> when it expires
        self._epoch = 0  # moves with every drop of the cache
        self._generation: int | None = None
        self._noted: dict[str, float] = {}  # token id -> monotonic time of its last note
        self._unwritten: dict[str, datetime] = {}  # token id -> last use, to write
        self._failing = False

    async def authenticate(self, connection: HTTPConnection) -> Identity | None:
        secret = presented_secret(connection)
        if secret is None or not looks_like_secret(secret):
            return None
        key = digest(secret)
        grant = self._grants.get(key)
        if grant is None:
            grant = await self._lookup(key)
            if grant is None:
                return None
        now = utcnow()
        if grant.expired(now):
            self._grants.pop(key, None)
            return None
        if grant.expires_at is not None:
            self._expiry[grant.credential] = grant.expires_at
        if grant.kind is CredentialKind.TOKEN:
            self._note_use(grant.credential, now)
        return grant.identity()

    async def _lookup(self, key: str) -> Grant | None:
        # Asked again when the cache was dropped while we waited: a revocation was seen
        # meanwhile and the connections then open were re-checked, but not this one. Once
        # the answer comes with no drop in between, the caller registers its connection
        # before anything else runs, so a later re-check cannot miss it.
        while True:
            epoch = self._epoch
            grant = await self.store.grant_for_digest(key)
            if epoch == self._epoch:
                break
        if grant is not None:
            if len(self._grants) >= CACHE_LIMIT:
                self._grants.clear()
            self._grants[key] = grant
        return grant

    def _note_use(self, token_id: str, now: datetime) -> None:
        mono = time.monotonic()
        last = self._noted.get(token_id)
        if last is None or mono - last >= USAGE_INTERVAL:
            self._noted[token_id] = mono
            self._unwritten[token_id] = now

    def invalidate(self) -> None:
        """Forget every cached grant (after a change made through this server)."""
        self._epoch += 1
        self._grants.clear()

    def revoked(self, credential: str) -> None:
        """``credential`` was revoked through this server: act on it now."""
        self.invalidate()
        self.registry.close_credential(credential, "credential revoked")

    async def flush_usage(self) -> None:
        """Write the noted last-use times (``GET /auth/tokens`` calls it before listing)."""
        unwritten, self._unwritten = self._unwritten, {}
        try:
            await self.store.touch(unwritten)
        except BaseException:
            self._unwritten = unwritten | self._unwritten
            raise

    async def refresh(self) -> None:
        """One look at the store: on a change, drop the cache and re-check every credential
        with open connections (close the invalid, update roles); close expired ones; write
        the last-use times."""
        generation = await self.store.generation()
        if generation != self._generation:
            first = self._generation is None
            self._generation = generation
            self.invalidate()
            if not first:
                await self._recheck()
        now = utcnow()
        for credential in self.registry.credentials():
            expires = self._expiry.get(credential)
            if expires is not None and expires <= now:
                self.registry.close_credential(credential, "credential expired")
        await self.flush_usage()

    async def _recheck(self) -> None:
        for credential in self.registry.credentials():
            grant = await self.store.grant(credential)
            if grant is None:
                self.registry.close_credential(credential, "credential revoked")
            else:
                self.registry.set_identity(grant.identity())

    async def watch(self) -> None:
        """``refresh`` every :data:`POLL_INTERVAL` seconds until cancelled; a failing store
        is logged (once until it recovers) and tried again."""
        while True:
            try:
                await self.refresh()
            except StoreError as exc:
                if not self._failing:
                    log.warning("cannot check credentials for revocation: %s", exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("credential checks work again")
                self._failing = False
            await asyncio.sleep(POLL_INTERVAL)
