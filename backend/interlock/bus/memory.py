"""In-process event bus: a dict of subscriber lists. The embedded default."""

from __future__ import annotations

from .base import EventBus, Subscriber


class MemoryBus(EventBus):
    """Fan-out inside one process; ``publish`` is a loop over plain method calls."""

    def __init__(self) -> None:
        self._subscribers: dict[str, list[Subscriber]] = {}

    def subscribe(self, session_id: str, subscriber: Subscriber) -> None:
        self._subscribers.setdefault(session_id, []).append(subscriber)

    def unsubscribe(self, session_id: str, subscriber: Subscriber) -> None:
        subs = self._subscribers.get(session_id)
        if subs is None:
            return
        try:
            subs.remove(subscriber)
        except ValueError:
            return
        if not subs:
            del self._subscribers[session_id]

    def publish(self, session_id: str, data: str) -> None:
        subs = self._subscribers.get(session_id)
        if subs:
            # A copy: deliver() may unsubscribe a subscriber that overflowed.
            for sub in tuple(subs):
                sub.deliver(data)

    def subscribers(self, session_id: str) -> list[Subscriber]:
        return list(self._subscribers.get(session_id, ()))

    def sessions(self) -> list[str]:
        """The sessions that have subscribers."""
        return list(self._subscribers)

    def subscriber_count(self, session_id: str) -> int:
        return len(self._subscribers.get(session_id, ()))
