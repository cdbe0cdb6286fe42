"""The ``Authenticator`` interface: turn a request's credentials into an ``Identity``."""

from __future__ import annotations

from typing import Protocol

from starlette.requests import HTTPConnection

from .identity import Identity


class Authenticator(Protocol):
    """Checks the credentials an HTTP request or a WebSocket handshake carries.

    ``authenticate`` looks at ``Authorization: Bearer <token>`` and the console's session
    cookie and returns the identity they prove, or None when there are none or they are not
    valid (unknown, expired, revoked, or the user was removed). It never raises for bad
    credentials and must be cheap: it runs on every request.
    """

    async def authenticate(self, connection: HTTPConnection) -> Identity | None: ...
