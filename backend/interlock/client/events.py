"""The session messages a client receives: ``interlock.protocol``'s own models, the two
requests with a ``respond()`` added.

``RequestConfirmation`` and ``RequestUserInput`` here subclass the protocol's models (so
``isinstance(event, protocol.RequestConfirmation)`` holds and they serialize the same); every
other message is the protocol's model itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import Field, PrivateAttr, TypeAdapter

from .. import protocol as p

#: How a request reaches its session: ``(request_id, True/False or {field: value})``; what
#: it returns is what ``respond()`` returns (a coroutine for ``AsyncClient``).
Responder = Callable[[str, Any], Any]


def _bound(event: RequestConfirmation | RequestUserInput) -> Responder:
    if event._responder is None:
        raise RuntimeError("this request did not come from a client session; answer it there")
    return event._responder


class RequestConfirmation(p.RequestConfirmation):
    """``request_confirmation``, answerable with ``respond(True)`` / ``respond(False)``."""

    _responder: Responder | None = PrivateAttr(default=None)

    def respond(self, value: bool) -> Any:
        """Answer yes or no. With ``AsyncClient`` await it; with ``Client`` it returns once
        the answer is taken. Raises ``AnswerRefused`` when someone answered first."""
        if not isinstance(value, bool):
            raise TypeError("a confirmation is answered with True or False")
        return _bound(self)(self.request_id, value)


class RequestUserInput(p.RequestUserInput):
    """``request_user_input``, answerable with ``respond({...})`` or ``respond(field=...)``."""

    _responder: Responder | None = PrivateAttr(default=None)

    def respond(self, values: dict[str, Any] | None = None, /, **fields: Any) -> Any:
        """Submit the form (``values`` and keyword fields together). Raises
        ``ValidationFailed`` with the per-field errors when the server rejects it (the
        request stays open: respond again)."""
        return _bound(self)(self.request_id, {**(values or {}), **fields})


Event = Annotated[
    p.Stream
    | p.Progress
    | p.Status
    | RequestConfirmation
    | RequestUserInput
    | p.RequestResolved
    | p.AttemptFailed
    | p.TaskCompleted
    | p.TaskFailed
    | p.TaskCancelled
    | p.TaskInterrupted,
    Field(discriminator="type"),
]
_events: TypeAdapter[p.SessionMessage] = TypeAdapter(Event)


def parse_event(data: str | bytes | dict[str, Any], responder: Responder) -> p.SessionMessage:
    """A session message from its JSON (text or decoded), bound to ``responder``."""
    event = _events.validate_python(data) if isinstance(data, dict) else _events.validate_json(data)
    if isinstance(event, RequestConfirmation | RequestUserInput):
        event._responder = responder
    return event


def is_terminal(event: p.SessionMessage) -> bool:
    return isinstance(event, p.TERMINAL_MODELS)
