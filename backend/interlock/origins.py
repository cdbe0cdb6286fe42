"""Whether a browser request comes from this server's own pages or a trusted origin.

Browsers say where a request comes from: ``Origin`` on every state-changing request and
every WebSocket handshake, and (current browsers) ``Sec-Fetch-Site``. A page on another
site can make the operator's browser send requests here (a form posting ``text/plain``, a
``fetch`` in ``no-cors`` mode, a WebSocket), but it cannot forge these headers. Scripts and
command-line clients send neither; they are not the threat (a program that can reach the
port needs no browser to misuse it) and are let through.

The rule, for a state-changing request or a WebSocket handshake (:meth:`OriginPolicy.refusal`):

1. An ``Origin`` listed in ``INTERLOCK_ALLOWED_ORIGINS`` is trusted like the server's own.
2. Otherwise ``Sec-Fetch-Site: cross-site`` is refused.
3. Otherwise an ``Origin`` must be the server's own: the same host and port as the request's
   ``Host`` (which :mod:`interlock.hosts` has already checked, so a rebound name cannot
   pose as the server). The scheme is not compared: behind a TLS proxy the page is
   ``https`` while the server sees plain HTTP.
4. Without ``Origin``, ``Sec-Fetch-Site`` must be absent, ``same-origin`` or ``none`` (typed
   by the user). ``same-site`` is refused: another port or subdomain of the same site (a
   notebook server on ``localhost:8888``, a wiki on ``wiki.lab.example``) is another
   application, and for a server that moves hardware another site.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers

from .hosts import split_host

#: Methods that change nothing (routes must keep it that way): the rule is not applied to
#: them, and they need no content type.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``INTERLOCK_ALLOWED_ORIGINS`` entry that opens CORS reads (never writes) to any origin.
ANY_ORIGIN = "*"
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


class FetchSite(enum.StrEnum):
    """Values of ``Sec-Fetch-Site``."""

    SAME_ORIGIN = "same-origin"
    SAME_SITE = "same-site"
    CROSS_SITE = "cross-site"
    NONE = "none"


#: ``Sec-Fetch-Site`` values that need no ``Origin`` to go ahead.
_SELF = frozenset({FetchSite.SAME_ORIGIN.value, FetchSite.NONE.value})


def parse_origin(text: str) -> tuple[str, str, int] | None:
    """``scheme://host[:port]`` as ``(scheme, host, port)`` (port defaulted by the scheme),
    or None when ``text`` is not such an origin (``null``, a path, no scheme)."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or parts.path or parts.query or parts.fragment:
        return None
    if "@" in parts.netloc:
        return None
    authority = split_host(parts.netloc)
    if authority is None:
        return None
    name, port = authority
    return scheme, name, port if port is not None else DEFAULT_PORTS[scheme]


def normalize_origin(text: str) -> str | None:
    """An origin as browsers send it (lower case, no default port, no trailing slash), or
    None when ``text`` is not an origin."""
    parsed = parse_origin(text.strip().removesuffix("/"))
    if parsed is None:
        return None
    scheme, name, port = parsed
    host = f"[{name}]" if ":" in name else name
    return f"{scheme}://{host}" + ("" if port == DEFAULT_PORTS[scheme] else f":{port}")


def same_origin(origin: str, host_header: str | None) -> bool:
    """Whether ``origin`` names the host and port the request was sent to (its ``Host``;
    a ``Host`` without a port means the origin scheme's default port)."""
    parsed = parse_origin(origin)
    authority = split_host(host_header) if host_header is not None else None
    if parsed is None or authority is None:
        return False
    scheme, name, port = parsed
    host_name, host_port = authority
    return name == host_name and port == (host_port or DEFAULT_PORTS[scheme])


def _shown(value: str) -> str:
    return repr(value if len(value) <= 100 else value[:100] + "...")


@dataclass(frozen=True, slots=True)
class OriginPolicy:
    """The cross-site rule of the module docstring; ``trusted`` holds normalized origins."""

    trusted: frozenset[str]

    @classmethod
    def of(cls, allowed: list[str]) -> OriginPolicy:
        """From ``INTERLOCK_ALLOWED_ORIGINS``; ``*`` trusts no one to change state."""
        trusted = (normalize_origin(o) for o in allowed if o != ANY_ORIGIN)
        return cls(frozenset(o for o in trusted if o is not None))

    def refusal(self, headers: Headers) -> str | None:
        """Why a state-changing request or WebSocket handshake with these headers comes from
        another site (a sentence for the 403), or None when it may go ahead."""
        origin = headers.get("origin")
        site = headers.get("sec-fetch-site")
        if origin is not None and normalize_origin(origin) in self.trusted:
            return None
        if site == FetchSite.CROSS_SITE:
            return (
                "Cross-site request refused (Sec-Fetch-Site: cross-site); list the page's "
                "origin in INTERLOCK_ALLOWED_ORIGINS to trust it"
            )
        if origin is not None:
            if same_origin(origin, headers.get("host")):
                return None
            return (
                f"Cross-site request refused: origin {_shown(origin)} is not this server's; "
                "list it in INTERLOCK_ALLOWED_ORIGINS to trust it"
            )
        if site is None or site in _SELF:
            return None
        return f"Request refused: Sec-Fetch-Site {_shown(site)} without an Origin"
