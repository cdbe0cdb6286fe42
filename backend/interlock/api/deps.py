"""How routers reach the session layer and learn who is asking (set up by ``create_app``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from starlette.requests import HTTPConnection

from ..auth import LOCAL, Identity, Role
from ..auth.authenticator import Authenticator
from ..manager import SessionManager

NOT_AUTHENTICATED = "Not authenticated"


def get_manager(request: Request) -> SessionManager:
    manager: SessionManager = request.app.state.manager
    return manager


Manager = Annotated[SessionManager, Depends(get_manager)]


async def identify(connection: HTTPConnection) -> Identity | None:
    """Who is asking: ``LOCAL`` with authentication off, else what the credentials prove
    (None when they prove nothing)."""
    authenticator: Authenticator | None = connection.app.state.authenticator
    if authenticator is None:
        return LOCAL
    return await authenticator.authenticate(connection)


async def get_caller(request: Request) -> Identity:
    """The authenticated caller; 401 with ``WWW-Authenticate: Bearer`` otherwise."""
    identity = await identify(request)
    if identity is None:
        raise HTTPException(401, NOT_AUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})
    return identity


Caller = Annotated[Identity, Depends(get_caller)]


def require(role: Role) -> Callable[[Identity], Awaitable[Identity]]:
    """A dependency: the caller, who must have at least ``role`` (403 otherwise)."""

    async def check(caller: Caller) -> Identity:
        if not caller.allows(role):
            raise HTTPException(403, f"Forbidden: requires {role.value}")
        return caller

    check.__name__ = f"require_{role.value}"
    return check


Viewer = Annotated[Identity, Depends(require(Role.VIEWER))]
Operator = Annotated[Identity, Depends(require(Role.OPERATOR))]
Admin = Annotated[Identity, Depends(require(Role.ADMIN))]
