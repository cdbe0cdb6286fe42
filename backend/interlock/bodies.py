"""REST request bodies: JSON only, a size cap enforced while receiving, and strict JSON.

``BodyGuard`` is ASGI middleware around every HTTP route. It acts when the route first asks
for its body (by then routing is done and the endpoint, with its own cap, is known), so a
route that reads no body costs nothing:

* A body must be JSON: ``Content-Type: application/json`` (or ``application/*+json``),
  else 415 ``{"detail": ...}``, and a body without a content type is refused the same way.
  ``text/plain``, forms and multipart are what a page on another site can make a browser
  send without asking the server first (a CORS "simple request"), so no route takes them
  unless it says so with :func:`body_types` (the upload route takes multipart). A request
  without a body needs no content type (``POST /hardware/stop``).
* A body longer than the cap gets 413 ``{"detail": ...}`` before anything parses it: at
  once when ``Content-Length`` says so, else as soon as the bytes received pass the cap (a
  chunked body is counted while it streams, and at most the cap is ever held). The server
  then reads and drops the rest, so the client still gets to see the 413.
* A JSON body is checked with :func:`interlock.strict_json.loads` first: NaN/Infinity, a
  lone surrogate or deep nesting is 422 in FastAPI's own shape (``type: json_invalid``),
  never a 500 later.

All travel as exceptions out of ``receive``, which FastAPI turns into those responses while
it reads a body: an ``HTTPException`` (415, 413) and a ``json.JSONDecodeError`` (422).

The cap is ``INTERLOCK_MAX_BODY_BYTES`` unless the endpoint is marked with :func:`body_limit`
(a number, or a function of the request's scope when the cap is a setting of the app); the
media types are JSON unless it is marked with :func:`body_types`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import strict_json
from .origins import SAFE_METHODS

F = TypeVar("F", bound=Callable[..., Any])

_LIMIT_ATTRIBUTE = "__interlock_body_limit__"
_TYPES_ATTRIBUTE = "__interlock_body_types__"
JSON = "application/json"


def body_limit(max_bytes: int | Callable[[Scope], int]) -> Callable[[F], F]:
    """Give one endpoint its own body cap (an upload route, say): bytes, or a function of
    the request's scope that returns them (``scope["app"].state.settings`` is at hand)."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, _LIMIT_ATTRIBUTE, max_bytes)
        return endpoint

    return mark


def body_types(*media_types: str) -> Callable[[F], F]:
    """Let one endpoint take these media types instead of JSON, e.g.
    ``@body_types("multipart/form-data")`` on an upload route (parameters such as
    ``; boundary=`` are not compared). Put it under the route decorator, like
    :func:`body_limit`."""
    accepted = tuple(t.lower() for t in media_types)

    def mark(endpoint: F) -> F:
        setattr(endpoint, _TYPES_ATTRIBUTE, accepted)
        return endpoint

    return mark


class UnsupportedMediaType(HTTPException):
    """Raised from ``receive`` when a body is not of a type its route takes (a 415)."""

    def __init__(self, accepted: tuple[str, ...], got: str) -> None:
        detail = f"Unsupported media type {got or '(none)'}: send {' or '.join(accepted)}"
        super().__init__(415, detail)


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` when a body is longer than its route's cap (a 413)."""

    def __init__(self, limit: int) -> None:
        detail = f"Request body too large: the limit is {limit} bytes"
        super().__init__(413, detail)


def _media_type(headers: Headers) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _is_json(ctype: str) -> bool:
    return ctype == JSON or (ctype.startswith("application/") and ctype.endswith("+json"))


def _has_body(headers: Headers) -> bool:
    return "transfer-encoding" in headers or headers.get("content-length", "0") != "0"


def _check_type(headers: Headers, accepted: tuple[str, ...]) -> str:
    """The body's media type, when its route takes it; else ``UnsupportedMediaType``."""
    ctype = _media_type(headers)
    if not ctype and not _has_body(headers):
        return ctype
    if ctype in accepted or (JSON in accepted and _is_json(ctype)):
        return ctype
    raise UnsupportedMediaType(accepted, ctype)


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
        if self.scope["method"] in SAFE_METHODS:  # a file response listening for disconnect
            ctype = _media_type(headers)
        else:
            ctype = _check_type(headers, getattr(endpoint, _TYPES_ATTRIBUTE, (JSON,)))
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            raise BodyTooLarge(self.limit)
        if not _is_json(ctype):
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
        except (BodyTooLarge, UnsupportedMediaType) as exc:  # read outside FastAPI's handler
            if started:
                raise
            response = JSONResponse({"detail": exc.detail}, exc.status_code)
            await response(scope, receive, send)
