"""``AuthService``: everything ``INTERLOCK_AUTH=true`` adds to a server, in one object.

``create_app`` builds one (``app.state.auth``; None with authentication off) and runs it for
the app's lifetime: it opens the ``AuthStore``, checks credentials (``authenticator``, also
``app.state.authenticator``), watches for revocations, and keeps the login throttle.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import timedelta
from typing import TypeVar

from ..exceptions import StoreError
from ..settings import Settings
from .accounts import Accounts
from .backends import auth_store
from .registry import ConnectionRegistry
from .store import AuthStore, Grant, utcnow
from .throttle import LoginThrottle
from .verifier import StoreAuthenticator

A = TypeVar("A")
log = logging.getLogger("interlock.auth")

#: Login sessions that ended longer ago than this are forgotten.
KEEP_ENDED_LOGINS = timedelta(days=1)


class AuthService:
    """Users, credentials and their checks for one server; see the module docstring."""

    def __init__(
        self, store: AuthStore, registry: ConnectionRegistry, *, login_lifetime: timedelta
    ) -> None:
        self.store = store
        self.registry = registry
        self.accounts = Accounts(store)
        self.authenticator = StoreAuthenticator(store, registry)
        self.throttle = LoginThrottle()
        self.login_lifetime = login_lifetime
        self._watch: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, registry: ConnectionRegistry, store: AuthStore | None = None
    ) -> AuthService:
        """The service for a server with ``settings``: on ``store``, by default the Redis
        one when ``settings.redis_url`` is set, else the SQLite one in the data directory."""
        store = store or auth_store(
            settings.data_dir,
            redis_url=settings.redis_url,
            redis_prefix=settings.redis_prefix,
            timeout=settings.store_timeout,
        )
        return cls(store, registry, login_lifetime=timedelta(hours=settings.login_hours))

    async def start(self) -> None:
        await self.store.open()
        await self.store.prune(utcnow() - KEEP_ENDED_LOGINS)
        await self.authenticator.refresh()
        self._watch = asyncio.create_task(self.authenticator.watch(), name="interlock-auth")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        try:
            await self.authenticator.flush_usage()
        except StoreError as exc:  # only last-use times are lost
            log.warning("could not record when tokens were last used: %s", exc)
        finally:
            await self.store.close()

    async def login(self, name: str, password: str) -> tuple[Grant, str] | None:
        """A new login session (what it grants, its secret) or None; see ``Accounts``."""
        return await self.accounts.login(name, password, self.login_lifetime)

    async def logout(self, secret: str) -> None:
        """End the login session ``secret``; its WebSockets close now."""
        ended = await self.accounts.logout(secret)
        if ended is not None:
            self.authenticator.revoked(ended)

    async def revoke_token(self, token_id: str, *, owner: str | None = None) -> bool:
        """Revoke an API token (only ``owner``'s, when given); its WebSockets close now."""
        revoked = await self.accounts.revoke_token(token_id, owner=owner)
        self.authenticator.revoked(token_id)
        return revoked


def with_auth(
    auth: AuthService | None, lifespan: Callable[[A], AbstractAsyncContextManager[None]]
) -> Callable[[A], AbstractAsyncContextManager[None]]:
    """``lifespan`` with ``auth`` started before it and stopped after it (if there is one)."""

    @asynccontextmanager
    async def run(app: A) -> AsyncIterator[None]:
        if auth is not None:
            await auth.start()
        try:
            async with lifespan(app):
                yield
        finally:
            if auth is not None:
                await auth.stop()

    return run
