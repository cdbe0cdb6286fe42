"""REST request bodies: a size cap enforced while receiving, and strict JSON.

``BodyGuard`` is ASGI middleware around every HTTP route. It acts when the route first asks
for its body (by then routing is done and the endpoint, with its own cap, is known), so a
route that reads no body costs nothing:

* A body longer than the cap gets 413 ``{"detail": ...}`` before anything parses it: at
  once when ``Content-Length`` says so, else as soon as the bytes received pass the cap (a
  chunked body is counted while it streams, and at most the cap is ever held). The server
  then reads and drops the rest, so the client still gets to see the 413.
* A body sent as JSON (``application/json``, ``application/*+json``, or no content type to
  a route with a body parameter) is checked with :func:`interlock.strict_json.loads` first:
  NaN/Infinity, a lone surrogate or deep nesting is 422 in FastAPI's own shape
  (``type: json_invalid``), never a 500 later.

Both travel as exceptions out of ``receive``, which FastAPI turns into those responses while
it reads a body: an ``HTTPException`` (413) and a ``json.JSONDecodeError`` (422).

The cap is ``INTERLOCK_MAX_BODY_BYTES`` unless the endpoint is marked with :func:`body_limit`
(a number, or a function of the request's scope when the cap is a setting of the app).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import strict_json

F = TypeVar("F", bound=Callable[..., Any])

_LIMIT_ATTRIBUTE = "__interlock_body_limit__"


def body_limit(max_bytes: int | Callable[[Scope], int]) -> Callable[[F], F]:
    """Give one endpoint its own body cap (an upload route, say): bytes, or a function of
    the request's scope that returns them (``scope["app"].state.settings`` is at hand)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _LIMIT_ATTRIBUTE, max_bytes)
        return endpoint

    return mark


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body is longer than its route's cap (a 413)."""

    def __init__(self, limit: int) -> None:
        detail = f"Request body too large: the limit is {limit} bytes"
        super().__init__(413, detail)


def _is_json(headers: Headers, route: object) -> bool:
    """Whether FastAPI may parse the body as JSON: a JSON type, or none and a body parameter
    (a route that is not in the scope, as with older FastAPI versions, may have one)."""
    ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype:
        return ctype == "application/json" or ctype.endswith("+json")
    return getattr(route, "body_field", True) is not None


class _GuardedBody:
    """The ``receive`` one request's app sees."""

    def __init__(self, scope: Scope, receive: Receive, default_limit: int) -> None:
        self.scope = scope
        self.upstream = receive
        self.default_limit = default_limit
        self.limit = default_limit
        self.size = 0
        self.first = True

    async def __call__(self) -> Message:
        if self.first:
            self.first = False
            return await self._first()
        return await self._counted()

    async def _counted(self) -> Message:
        message = await self.upstream()
        if message["type"] == "http.request":
            self.size += len(message.get("body", b""))
            if self.size > self.limit:
                raise BodyTooLarge(self.limit)
        return message

    async def _first(self) -> Message:
        # Routing has run by now: the endpoint in the scope is the one that reads the body.
        endpoint = self.scope.get("endpoint")
        limit = getattr(endpoint, _LIMIT_ATTRIBUTE, self.default_limit)
        self.limit = limit(self.scope) if callable(limit) else limit
        headers = Headers(scope=self.scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise BodyTooLarge(self.limit)
        if not _is_json(headers, self.scope.get("route")):
            return await self._counted()
        chunks: list[bytes] = []
        while True:
            message = await self._counted()
            if message["type"] != "http.request":
                return message  # the client went away
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if body:
            strict_json.loads(body)  # InvalidJSON is a JSONDecodeError: FastAPI's 422
        return {"type": "http.request", "body": body, "more_body": False}


class BodyGuard:
    """ASGI middleware: see the module docstring. ``max_bytes`` is the default cap."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, _GuardedBody(scope, receive, self.max_bytes), tracking_send)
        except BodyTooLarge as exc:  # read by something that does not turn it into a 413
            if started:
                raise
            response = JSONResponse({"detail": exc.detail}, exc.status_code)
            await response(scope, receive, send)
