"""Security headers on every HTTP response: what the browser may do with what it gets.

* ``Content-Security-Policy``: the console runs only its own scripts (``script-src
  'self'``, no inline script, no ``eval``), talks only to this server (``connect-src
  'self'`` covers its WebSocket in CSP level 3 browsers), and may not be framed
  (``frame-ancestors 'none'``): no other page can lay the console under a decoy and have
  the operator click its Yes button (clickjacking). ``X-Frame-Options: DENY`` says the
  same to browsers older than ``frame-ancestors``.
* ``X-Content-Type-Options: nosniff``: a JSON answer or a task's artifact is never run as a
  script or rendered as HTML because its bytes look like one.
* ``Referrer-Policy: same-origin``: session URLs are not sent to other sites.

JSON answers carry them too: harmless there, and an API response opened in a tab is then
covered like the console. A route that sets its own ``Content-Security-Policy`` keeps it
(``/docs`` and ``/redoc`` need inline scripts: see :mod:`interlock.api.docs`).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONSOLE_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """ASGI middleware adding :data:`HEADERS` to every HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
