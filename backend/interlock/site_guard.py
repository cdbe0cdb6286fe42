"""Keeping other sites out, in every mode (with or without ``INTERLOCK_AUTH``).

``SiteGuard`` is ASGI middleware in front of every route and WebSocket:

* ``Host`` must be a name the server answers to (:mod:`interlock.hosts`), on every request
  and WebSocket handshake: otherwise 400. This stops DNS rebinding.
* A state-changing request (any method but GET, HEAD and OPTIONS) and every WebSocket
  handshake must come from the server's own pages or a trusted origin
  (:mod:`interlock.origins`): otherwise 403. This stops cross-site requests: a page the
  operator happens to visit cannot start motion or answer a prompt through their browser.

Both run before routing, authentication and body parsing, so a refused request has no
effect at all. A refused WebSocket handshake gets the same HTTP answer (JSON ``detail``)
where the server supports the denial-response extension (uvicorn does), else a plain 403.

:func:`protect` installs it with the rest of the HTTP hardening: CORS for trusted origins
(:mod:`interlock.cors`) and the security headers (:mod:`interlock.security_headers`).
Request bodies must be JSON (415), which :mod:`interlock.bodies` checks per route.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocketClose

from .cors import CORS
from .hosts import ANY_HOST, WILDCARD_BINDS, HostPolicy, host_name
from .origins import SAFE_METHODS, OriginPolicy
from .security_headers import SecurityHeaders
from .settings import Settings

log = logging.getLogger("interlock.site")

POLICY_VIOLATION = 1008
DENIAL_EXTENSION = "websocket.http.response"


async def refuse(scope: Scope, receive: Receive, send: Send, status: int, detail: str) -> None:
    """Answer an HTTP request, or refuse a WebSocket handshake, with ``{"detail": ...}``."""
    if scope["type"] == "websocket" and DENIAL_EXTENSION not in scope.get("extensions", {}):
        await WebSocketClose(POLICY_VIOLATION)(scope, receive, send)  # the server sends 403
        return
    await JSONResponse({"detail": detail}, status)(scope, receive, send)


class SiteGuard:
    """ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp, hosts: HostPolicy, origins: OriginPolicy) -> None:
        self.app = app
        self.hosts = hosts
        self.origins = origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host")
        if host is not None and not self.hosts.allows(host):
            shown = repr(host[:100])
            # The names it does answer to go to the log only: under DNS rebinding the
            # attacker's page can read this answer.
            log.warning(
                "refused a request for unknown host %s (DNS rebinding?); answering to %s",
                shown,
                ", ".join(sorted(self.hosts.names)),
            )
            detail = (
                f"Unknown host {shown}: add the name clients use for this server to "
                "INTERLOCK_ALLOWED_HOSTS"
            )
            await refuse(scope, receive, send, 400, detail)
            return
        if kind == "websocket" or scope["method"] not in SAFE_METHODS:
            reason = self.origins.refusal(headers)
            if reason is not None:
                log.warning("refused %s %s: %s", scope.get("method", "WS"), scope["path"], reason)
                await refuse(scope, receive, send, 403, reason)
                return
        await self.app(scope, receive, send)


def protect(app: FastAPI, settings: Settings) -> None:
    """Add the site guard, CORS and the security headers to ``app`` (after its other
    middleware: these run first)."""
    hosts = HostPolicy.of(settings.host, settings.allowed_hosts)
    if (host_name(settings.host) or "") in WILDCARD_BINDS and not settings.allowed_hosts:
        log.warning(
            "listening on every interface (%s) but INTERLOCK_ALLOWED_HOSTS is empty: requests "
            "that call this server by another name or address get 400",
            settings.host or "''",
        )
    if ANY_HOST in settings.allowed_hosts:
        log.warning(
            "INTERLOCK_ALLOWED_HOSTS=*: the Host check is off (DNS rebinding is not stopped "
            "unless a proxy in front checks Host)"
        )
    if settings.allowed_origins:
        app.add_middleware(CORS, allowed_origins=settings.allowed_origins)
    app.add_middleware(SiteGuard, hosts=hosts, origins=OriginPolicy.of(settings.allowed_origins))
    app.add_middleware(SecurityHeaders)
