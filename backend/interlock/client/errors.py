"""What the client raises. Each class says when; every one is a ``ClientError``."""

from __future__ import annotations

from typing import Any

from .. import protocol as p


class ClientError(Exception):
    """Base class of every error ``interlock.client`` raises on purpose."""


class RequestRefused(ClientError):
    """Raised when the server answers a request with an error status. ``status`` is the
    HTTP status, ``detail`` its text, ``code`` the wire error code when it sent one
    (``already_answered``, ``stale_request``, …)."""

    def __init__(self, status: int, detail: str, code: str | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.code = code


class AuthenticationFailed(RequestRefused):
    """Raised when the server wants a credential it was not given, or refused the token
    (HTTP 401, or a WebSocket closed with 4401 when the token was revoked)."""


class Forbidden(RequestRefused):
    """Raised when the token's role (or the task's respondents) does not allow the call
    (HTTP 403, WebSocket ``forbidden``)."""


class NotFound(RequestRefused):
    """Raised when there is no such task (HTTP 404, WebSocket close 4404)."""


class ValidationFailed(RequestRefused):
    """Raised when the server rejects parameters or an answer as invalid (HTTP 422).
    ``errors`` holds one ``FieldError(field, message)`` per bad field: a parameter's
    name for ``start``, a form field's name for ``submit``."""

    def __init__(self, detail: str, errors: list[p.FieldError]) -> None:
        super().__init__(422, detail, "validation_error")
        self.errors = errors

    def __str__(self) -> str:
        fields = "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        return f"{self.detail}: {fields}" if fields else self.detail


class AnswerRefused(RequestRefused):
    """Raised when an answer was not taken (HTTP 409): ``code`` says why
    (``already_answered``, ``stale_request``, ``no_pending_request``, ``task_not_active``)."""


class ConnectionLost(ClientError):
    """Raised when a session's event stream stayed disconnected longer than the client's
    ``reconnect_timeout`` (the server is down or unreachable)."""


class TaskEnded(ClientError):
    """Base of what ``Session.wait()`` raises when a task did not complete: ``event`` is
    the terminal message the server sent, ``task_id`` the task."""

    def __init__(self, task_id: str, event: Any, text: str) -> None:
        super().__init__(text)
        self.task_id = task_id
        self.event = event


class TaskFailed(TaskEnded):
    """Raised by ``wait()`` when the task failed; ``error`` says why."""

    event: p.TaskFailed

    def __init__(self, task_id: str, event: p.TaskFailed) -> None:
        super().__init__(task_id, event, f"task {task_id} failed: {event.error}")
        self.error = event.error


class TaskCancelled(TaskEnded):
    """Raised by ``wait()`` when the task was cancelled (by a person, or ``declined``)."""

    event: p.TaskCancelled

    def __init__(self, task_id: str, event: p.TaskCancelled) -> None:
        super().__init__(task_id, event, f"task {task_id} cancelled: {event.reason}")
        self.reason = event.reason


class TaskInterrupted(TaskEnded):
    """Raised by ``wait()`` when the server stopped while the task was alive."""

    event: p.TaskInterrupted

    def __init__(self, task_id: str, event: p.TaskInterrupted) -> None:
        super().__init__(task_id, event, f"task {task_id} interrupted: {event.reason}")
        self.reason = event.reason


def outcome(task_id: str, event: p.SessionMessage) -> Any:
    """The result of a completed task, or the ``TaskEnded`` error a terminal message means."""
    if isinstance(event, p.TaskCompleted):
        return event.result
    if isinstance(event, p.TaskFailed):
        raise TaskFailed(task_id, event)
    if isinstance(event, p.TaskCancelled):
        raise TaskCancelled(task_id, event)
    if isinstance(event, p.TaskInterrupted):
        raise TaskInterrupted(task_id, event)
    raise TypeError(f"not a terminal message: {event.model_dump_json()}")
