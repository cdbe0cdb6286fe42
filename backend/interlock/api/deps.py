"""How routers reach the session layer and learn who is asking (set up by ``create_app``)."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from ..auth import LOCAL, Identity, Role
from ..auth.authenticator import Authenticator
from ..auth.service import AuthService
from ..logs import USER
from ..manager import SessionManager

NOT_AUTHENTICATED = "Not authenticated"
AUTH_OFF = "Authentication is off: there are no users or tokens (set INTERLOCK_AUTH=true)"


# The dependencies are ``async def`` even where they await nothing: FastAPI runs a plain
# ``def`` in its thread pool, a thread hop (and a wait for a free thread) on every request.
async def get_manager(request: Request) -> SessionManager:
    manager: SessionManager = request.app.state.manager
    return manager


Manager = Annotated[SessionManager, Depends(get_manager)]


async def identify(connection: HTTPConnection) -> Identity | None:
    """Who is asking: ``LOCAL`` with authentication off, else what the credentials prove
    (None when they prove nothing)."""
    authenticator: Authenticator | None = connection.app.state.authenticator
    if authenticator is None:
        return LOCAL
    identity = await authenticator.authenticate(connection)
    if identity is not None and identity.user is not None:
        USER.set(identity.user)  # the rest of the request logs with its user
    return identity


async def get_caller(request: Request) -> Identity:
    """The authenticated caller; 401 with ``WWW-Authenticate: Bearer`` otherwise."""
    identity = await identify(request)
    if identity is None:
        raise HTTPException(401, NOT_AUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
    return identity


Caller = Annotated[Identity, Depends(get_caller)]


class Require:
    """The dependency ``require(role)`` returns: the caller, who must have at least
    ``role`` (403 ``Forbidden: requires <role>`` otherwise). ``role`` is what the route
    declares (the role matrix test reads it)."""

    def __init__(self, role: Role) -> None:
        self.role = role
        self.__name__ = f"require_{role.value}"

    async def __call__(self, caller: Caller) -> Identity:
        if not caller.allows(self.role):
            raise HTTPException(403, f"Forbidden: requires {self.role.value}")
        return caller


@functools.cache
def require(role: Role) -> Callable[[Identity], Awaitable[Identity]]:
    """A dependency: the caller, who must have at least ``role`` (403 otherwise). One object
    per role, so a route that asks twice is checked once per request.

    Next to each route: ``dependencies=[Depends(require(Role.OPERATOR))]``, or a parameter
    ``caller: Operator`` where the route needs to know who is asking."""
    return Require(role)


async def public() -> None:
    """Declares a route open to everyone, signed in or not: it must say nothing private."""


#: ``dependencies=[Public]``: the route is open to everyone (a declared decision, read by
#: the role matrix test like the roles of ``require``).
Public = Depends(public)


async def get_auth(request: Request) -> AuthService:
    """The auth service; 404 when authentication is off (there are no users then)."""
    auth: AuthService | None = request.app.state.auth
    if auth is None:
        raise HTTPException(404, AUTH_OFF)
    return auth


Auth = Annotated[AuthService, Depends(get_auth)]

Viewer = Annotated[Identity, Depends(require(Role.VIEWER))]
Operator = Annotated[Identity, Depends(require(Role.OPERATOR))]
Admin = Annotated[Identity, Depends(require(Role.ADMIN))]
