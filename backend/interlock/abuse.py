"""WebSocket abuse limits: how fast one connection may send, how many one address may open.

* **Messages.** Every client message (a text or binary frame, valid or not) takes a token
  from its connection's bucket: ``INTERLOCK_WS_RATE`` tokens a second, at most
  ``INTERLOCK_WS_BURST`` saved up. A message without a token is not read: the client gets
  ``error {code: "rate_limited"}`` and nothing changes (an open prompt stays open). Each
  refusal takes a token from a second bucket of the same size and rate; when that one is
  empty too, the abuse is sustained and the connection is closed with 1008. So a client
  that sends at up to twice the rate is slowed down but never closed, while a flood is
  closed after one burst of refusals.
* **Connections.** At most ``INTERLOCK_MAX_CONNECTIONS_PER_CLIENT`` WebSockets are open per
  client address (its host, whatever the port); the handshake of one more is refused with
  HTTP 429 before it is accepted. The address is the one uvicorn reports: behind a reverse
  proxy on the same machine it is the browser's when the proxy sends ``X-Forwarded-For``
  (uvicorn trusts it from 127.0.0.1, or what ``FORWARDED_ALLOW_IPS`` lists), else the proxy's.

Both run on the event loop only: no locks.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

Clock = Callable[[], float]


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` a second up to ``burst``; it starts full.
    ``clock`` gives seconds (``time.monotonic``)."""

    __slots__ = ("_clock", "_last", "_tokens", "burst", "rate")

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("a token bucket needs a positive rate and a burst of at least 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._last = clock()

    def take(self) -> bool:
        """Take one token: True when there was one."""
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


class Verdict(enum.StrEnum):
    """What to do with one client message."""

    ACCEPT = "accept"  # act on it
    REFUSE = "refuse"  # answer rate_limited, act on nothing
    CLOSE = "close"  # sustained abuse: close the connection with 1008


class MessageLimiter:
    """The message limit of one connection (see the module docstring)."""

    __slots__ = ("_messages", "_refusals", "message")

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self._messages = TokenBucket(rate, burst, clock)
        self._refusals = TokenBucket(rate, burst, clock)
        #: What a refused client is told.
        self.message = (
            f"too many messages: at most {rate:g} a second (bursts of {burst}); this one was "
            "not read, send it again later"
        )

    def admit(self) -> Verdict:
        """The verdict on the next message (call once per message, as it arrives)."""
        if self._messages.take():
            return Verdict.ACCEPT
        if self._refusals.take():
            return Verdict.REFUSE
        return Verdict.CLOSE


class ClientCap:
    """Open WebSockets by client address, at most ``limit`` each (see the module
    docstring). ``acquire`` when a handshake arrives, ``release`` when its handler ends."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._open: dict[str | None, int] = {}

    def acquire(self, host: str | None) -> bool:
        """Count one more connection of ``host``; False (nothing counted) at the limit."""
        count = self._open.get(host, 0)
        if count >= self.limit:
            return False
        self._open[host] = count + 1
        return True

    def release(self, host: str | None) -> None:
        count = self._open.get(host, 0) - 1
        if count > 0:
            self._open[host] = count
        else:
            self._open.pop(host, None)

    def open(self, host: str | None) -> int:
        """Connections of ``host`` counted now."""
        return self._open.get(host, 0)

    def refusal(self, host: str | None) -> str:
        """The ``detail`` of a refused handshake."""
        return (
            f"Too many open WebSockets from {host or 'this client'} (at most {self.limit}); "
            "close some tabs and retry"
        )
