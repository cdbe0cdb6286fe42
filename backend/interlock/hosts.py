"""The names this server answers to, and which addresses are loopback.

DNS rebinding: a page at ``http://evil.example:8000`` has its name re-pointed at this
machine, and the browser then treats this server as part of the attacker's site (same
origin, so no CORS and a matching ``Origin``). What still gives it away is the ``Host``
header, which carries the attacker's name. :class:`HostPolicy` answers only requests whose
``Host`` is a name the server is known by; everything else gets 400 before any route runs.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

#: What a client on this machine may call the server, in every mode.
ALWAYS: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
#: ``INTERLOCK_ALLOWED_HOSTS`` entry that turns the check off (a proxy in front checks Host).
ANY_HOST = "*"
#: Bind addresses that mean "every interface": no client calls the server by them.
WILDCARD_BINDS = frozenset({"", "0.0.0.0", "::"})

_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*")
_PORT = re.compile(r"[0-9]{1,5}")


def split_host(value: str) -> tuple[str, int | None] | None:
    """``Host`` header (or an origin's authority) as ``(name, port)``: the name lower-cased,
    without IPv6 brackets or a trailing dot, IPv6 in its short form; None when malformed.

    A bare IPv6 address (``::1``, as a bind address or a settings entry) is accepted too.
    """
    text = value.strip().lower()
    try:
        return ipaddress.IPv6Address(text).compressed, None
    except ValueError:
        pass
    if text.startswith("["):
        end = text.find("]")
        try:
            name = ipaddress.IPv6Address(text[1:end]).compressed if end > 0 else None
        except ValueError:
            return None
        rest = text[end + 1 :]
    else:
        name, sep, port_text = text.partition(":")
        rest = sep + port_text
        name = name.removesuffix(".")
        if not _NAME.fullmatch(name):
            return None
    if name is None:
        return None
    if not rest:
        return name, None
    port_text = rest.removeprefix(":")
    if not rest.startswith(":") or not _PORT.fullmatch(port_text) or int(port_text) > 65535:
        return None
    return name, int(port_text)


def host_name(value: str) -> str | None:
    """The name part of :func:`split_host`, or None when ``value`` is malformed."""
    parts = split_host(value)
    return parts[0] if parts is not None else None


def is_loopback(host: str) -> bool:
    """Whether a bind address reaches this machine only: ``localhost``, 127.0.0.0/8, ``::1``.

    Names other than ``localhost`` are not resolved: they count as reachable from outside.
    """
    name = host_name(host)
    if name is None:
        return False
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """The ``Host`` values a server answers to: :data:`ALWAYS`, its bind address (unless a
    wildcard) and the configured names, with or without a port, case-insensitively."""

    names: frozenset[str]
    any_host: bool = False

    @classmethod
    def of(cls, bind: str, allowed: Iterable[str]) -> HostPolicy:
        """The policy of a server bound to ``bind`` with ``INTERLOCK_ALLOWED_HOSTS`` entries
        ``allowed``; an entry that is not a host raises ``ValueError``."""
        names = set(ALWAYS)
        bound = host_name(bind)
        if bound is not None and bound not in WILDCARD_BINDS:
            names.add(bound)
        any_host = False
        for entry in allowed:
            if entry == ANY_HOST:
                any_host = True
                continue
            name = host_name(entry)
            if name is None:
                raise ValueError(f"not a host name or address: {entry!r}")
            names.add(name)
        return cls(frozenset(names), any_host)

    def allows(self, header: str | None) -> bool:
        """Whether a request with this ``Host`` header is answered. No header at all is
        allowed: browsers always send one, so its absence means a script or a probe."""
        if header is None:
            return True
        name = host_name(header)
        return name is not None and (self.any_host or name in self.names)
