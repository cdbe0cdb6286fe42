"""CORS for the REST API, driven by ``INTERLOCK_ALLOWED_ORIGINS``.

Starlette's ``CORSMiddleware`` does the work; ``CORS`` only picks which configuration a
request gets, because one ``CORSMiddleware`` cannot give credentials to some origins and
not to others:

* an origin listed in ``INTERLOCK_ALLOWED_ORIGINS`` may use every method, with credentials
  (the console's cookie, ``Authorization``);
* with ``*`` listed, any other origin may read (GET, HEAD) without credentials: ``*``
  never comes with credentials and never lets a page change state (the site guard refuses
  its state-changing requests anyway);
* any other origin gets no CORS headers, so the browser keeps the response from the page.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .origins import ANY_ORIGIN, normalize_origin

#: Request headers a trusted page may send (besides the CORS-safelisted ones).
ALLOWED_HEADERS = ("Authorization", "Content-Type")
TRUSTED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
READ_METHODS = ("GET", "HEAD")


class CORS:
    """ASGI middleware: see the module docstring. ``allowed_origins`` are normalized."""

    def __init__(self, app: ASGIApp, allowed_origins: list[str]) -> None:
        self.listed = frozenset(o for o in allowed_origins if o != ANY_ORIGIN)
        self.trusted = CORSMiddleware(
            app,
            allow_origins=sorted(self.listed),
            allow_methods=TRUSTED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            allow_credentials=True,
        )
        self.anyone: ASGIApp | None = None
        if ANY_ORIGIN in allowed_origins:
            self.anyone = CORSMiddleware(
                app,
                allow_origins=[ANY_ORIGIN],
                allow_methods=READ_METHODS,
                allow_headers=ALLOWED_HEADERS,
            )
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        if self.anyone is None or origin is None or normalize_origin(origin) in self.listed:
            await self.trusted(scope, receive, send)
        else:
            await self.anyone(scope, receive, send)
