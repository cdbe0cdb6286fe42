"""What reached the tabs: messages and frame bytes, counted once per message, not per tab.

The count is made where a committed message is published (``n`` tabs subscribed: ``n``
messages of its frame's size) and where a replay is queued, so the fan-out's per-tab path
(``Connection.deliver``) carries no counter at all. A tab closed for falling behind is
counted for the message that overflowed it; nothing after.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Traffic:
    """Running totals since the server started (read by ``interlock.metrics``)."""

    messages: int = 0
    bytes: int = 0

    def replayed(self, messages: int, frame_bytes: int) -> None:
        """A replay of ``messages`` messages, ``frame_bytes`` in all, went to one tab."""
        self.messages += messages
        self.bytes += frame_bytes
