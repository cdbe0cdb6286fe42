"""A task's life as its committed messages tell it: started, prompted, answered, finished.

The session manager hands every committed message's type here (``observe``); the few that
mark a task's life (:data:`LIFECYCLE_TYPES`, a set lookup per message) become
``LifecycleEvent`` objects for the watchers of them: webhooks (``interlock.webhooks``),
notifications (``interlock.notify``) and metrics (``interlock.metrics``). Because they are
made from committed messages, a watcher never hears of a prompt before a tab could see and
answer it, and events of one session come in the order of its ``seq``.

Watchers run on the event loop, inside the journal's hand-on: they must return at once
(queue the work, never wait for it), and what they raise is logged, never passed on.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .sessions import Session

log = logging.getLogger("interlock.lifecycle")

EventName = Literal["task.started", "request.opened", "request.resolved", "task.finished"]

#: The message types that may mark a task's life (``status`` only when it first runs).
LIFECYCLE_TYPES = frozenset(
    {
        "status",
        "request_confirmation",
        "request_user_input",
        "request_resolved",
        "task_completed",
        "task_failed",
        "task_cancelled",
        "task_interrupted",
    }
)
_REQUESTS = frozenset({"request_confirmation", "request_user_input"})
_TERMINAL = frozenset({"task_completed", "task_failed", "task_cancelled", "task_interrupted"})


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One step of a task's life. ``message`` is the committed wire message that marks it
    (as tabs received it); ``waited`` is how long a resolved request was open (seconds,
    from the commit of the prompt to that of its resolution), None when not known."""

    name: EventName
    session: Session
    message: dict[str, Any]
    waited: float | None = None


Watcher = Callable[[LifecycleEvent], None]


@dataclass(slots=True)
class OpenRequest:
    """A prompt people can see and answer, and since when (``time.monotonic()``)."""

    session: Session
    request_id: str
    prompt: str
    opened_at: float


@dataclass
class Lifecycle:
    """Turns committed messages into events for the ``watchers``; keeps the open prompts."""

    watchers: list[Watcher] = field(default_factory=list)
    _started: set[str] = field(default_factory=set)
    _open: dict[str, OpenRequest] = field(default_factory=dict)

    def open_requests(self) -> list[OpenRequest]:
        """The prompts open now (committed, not yet resolved), oldest first."""
        return list(self._open.values())

    def observe(self, session: Session, type_: str, data: str) -> None:
        """A committed message of ``session``; only :data:`LIFECYCLE_TYPES` are passed in."""
        message: dict[str, Any] = json.loads(data)
        waited: float | None = None
        if type_ == "status":
            if message.get("status") != "running" or session.id in self._started:
                return
            self._started.add(session.id)
            name: EventName = "task.started"
        elif type_ in _REQUESTS:
            request_id = message["request_id"]
            self._open[request_id] = OpenRequest(
                session, request_id, message.get("prompt", ""), time.monotonic()
            )
            name = "request.opened"
        elif type_ == "request_resolved":
            opened = self._open.pop(message["request_id"], None)
            if opened is not None:
                waited = time.monotonic() - opened.opened_at
            name = "request.resolved"
        elif type_ in _TERMINAL:
            self._started.discard(session.id)
            for request_id in [k for k, r in self._open.items() if r.session is session]:
                del self._open[request_id]  # never resolved where we saw it (a lost store)
            name = "task.finished"
        else:
            return
        event = LifecycleEvent(name, session, message, waited)
        for watcher in self.watchers:
            try:
                watcher(event)
            except Exception:
                log.exception("a watcher of %s failed", name, extra={"session_id": session.id})
