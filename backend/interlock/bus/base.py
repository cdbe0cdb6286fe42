"""The event bus: how a session's committed messages reach every connection watching it.

Guarantees every implementation gives:

* ``publish`` delivers to each subscriber of the session in publish order, never blocks the
  publisher, and serializes nothing: ``data`` is the JSON text, shared by all subscribers.
* ``subscribe`` takes effect for the next ``publish``; the session layer calls it in the same
  event-loop step as it takes a replay snapshot, which is what makes replay + live gap-free.
* A subscriber that cannot keep up is its own business (``Subscriber.deliver`` must not block).
"""

from __future__ import annotations

import abc
from typing import Protocol


class Subscriber(Protocol):
    """Something that receives a session's messages (a WebSocket connection)."""

    def deliver(self, data: str) -> None:
        """Take one message; must return at once (queue it or drop the connection)."""


class EventBus(abc.ABC):
    """Fan-out of session messages to subscribers."""

    async def open(self) -> None:  # noqa: B027 (an optional hook: most buses need none)
        """Start what the bus runs in the background (connections, listeners). Called once
        at start-up, before anything is published."""

    async def close(self) -> None:  # noqa: B027
        """Stop it; nothing is published afterwards."""

    def health(self) -> str | None:
        """Why messages of other instances cannot reach this one now (its connection is
        lost), or None. ``GET /health`` reports it as ``degraded``."""
        return None

    @abc.abstractmethod
    def subscribe(self, session_id: str, subscriber: Subscriber) -> None:
        """Start delivering the session's published messages to ``subscriber``."""

    @abc.abstractmethod
    def unsubscribe(self, session_id: str, subscriber: Subscriber) -> None:
        """Stop delivering; unknown subscribers are ignored."""

    @abc.abstractmethod
    def publish(self, session_id: str, data: str) -> None:
        """Deliver ``data`` to every current subscriber of the session, in order."""

    def deliver_local(self, session_id: str, data: str) -> None:
        """Hand ``data`` to this instance's subscribers only (another instance published
        it). On a bus of one instance that is ``publish``."""
        self.publish(session_id, data)

    def subscribers(self, session_id: str) -> list[Subscriber]:
        """The session's subscribers on this instance."""
        return []

    @abc.abstractmethod
    def subscriber_count(self, session_id: str) -> int:
        """How many subscribers the session has on this instance."""
