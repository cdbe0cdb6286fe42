"""One exception tree for Interlock. Each class says when it is raised."""

from __future__ import annotations

from typing import Any

from .auth.roles import Role


class InterlockError(Exception):
    """Base class of every error Interlock raises on purpose."""


class IllegalTransition(InterlockError):
    """Raised when a task or request is moved to a state its current state does not allow."""


class UnknownTaskType(InterlockError):
    """Raised when a task type name is not in the registry."""


class InvalidParameters(InterlockError):
    """Raised when task parameters fail validation; ``errors`` lists ``{field, message}``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid parameters")
        self.errors = errors


class InvalidRespondents(InterlockError):
    """Raised when the ``respondents`` a task is started with cannot be taken (unknown
    users, viewers, an empty list, or authentication off); ``errors`` lists ``(index,
    message)`` pairs, the index None for the list as a whole."""

    def __init__(self, errors: list[tuple[int | None, str]]) -> None:
        super().__init__("invalid respondents")
        self.errors = errors


class Forbidden(InterlockError):
    """Raised when the caller's role is below the ``needed`` one: starting a task type
    registered with a higher ``role`` (HTTP 403 ``Forbidden: requires <role>``)."""

    def __init__(self, needed: Role) -> None:
        super().__init__(f"Forbidden: requires {needed.value}")
        self.needed = needed
        self.detail = f"Forbidden: requires {needed.value}"


class CapacityExceeded(InterlockError):
    """Raised when a task cannot start now because slots or resources are taken.

    ``holder`` is the id of a task that holds what was asked for.
    """

    def __init__(self, holder: str, detail: str | None = None) -> None:
        super().__init__(detail or f"A task is already running: {holder}")
        self.holder = holder
        self.detail = detail or f"A task is already running: {holder}"


class StoreError(InterlockError):
    """Raised by a ``Store`` when an operation can never succeed as asked: the data is
    inconsistent (a constraint failed) or the database is damaged or of a foreign schema.
    Retrying does not help; the affected session is failed instead."""


class StoreUnavailable(StoreError):
    """Raised when the store cannot be used right now but may recover: the database is
    locked by another process, the disk is full or read-only, an I/O error occurred, or an
    operation did not finish within the store timeout. Writes are retried with backoff
    meanwhile; requests that need the store get HTTP 503 / ``store_unavailable``."""


class QueueFull(InterlockError):
    """Raised when a task would have to wait but ``INTERLOCK_MAX_QUEUED`` tasks already do."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"Queue is full ({limit} tasks)")
        self.limit = limit
        self.detail = f"Queue is full ({limit} tasks)"


class DataDirError(InterlockError):
    """Raised before start-up touches the store when the data directory cannot be used.
    The message is meant for the operator as is: it says what is wrong and what to do."""


class DataDirInUse(DataDirError):
    """Raised when another Interlock process holds the data directory; ``pid`` is its pid
    (None when it could not be read)."""

    def __init__(self, path: str, pid: int | None) -> None:
        super().__init__(
            f"data directory {path} is in use by another Interlock process "
            f"(pid {pid if pid is not None else 'unknown'})"
        )
        self.path = path
        self.pid = pid


class DataDirUnusable(DataDirError):
    """Raised when the data directory is not writable or its database fails the integrity
    check at start-up."""


class TaskNotFound(InterlockError):
    """Raised when a task/session id is unknown."""


class UploadRejected(InterlockError):
    """Raised when ``POST /uploads`` cannot take a body; nothing of it is kept.

    ``status`` is the HTTP status: 400 a malformed multipart body, 413 a file over
    ``INTERLOCK_MAX_UPLOAD_MB``, 415 not ``multipart/form-data``, 422 not exactly one part
    named ``file`` (then ``field`` names the part), 507 the disk is full, 503 another I/O
    error stored nothing.
    """

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


class AnswerRejected(InterlockError):
    """Raised when an answer to a human request cannot be taken.

    ``code`` is the wire error code (``no_pending_request``, ``stale_request``,
    ``already_answered``, ``validation_error``, ``forbidden`` for someone who is not one of
    the task's respondents); ``errors`` lists field errors.
    """

    def __init__(self, code: str, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.errors = errors or []


class TaskCancelled(InterlockError):
    """Raised inside a task to end it as ``cancelled``; also what ``ctx.check_cancelled`` raises.

    ``reason`` goes into the ``task_cancelled`` message; ``details`` are merged into it.
    """

    def __init__(self, reason: str = "cancelled", **details: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


class TaskFailed(InterlockError):
    """Raised inside a task to end it as ``failed`` with a chosen ``can_retry``/``attempt``."""

    def __init__(self, error: str, *, can_retry: bool = False, attempt: int | None = None) -> None:
        super().__init__(error)
        self.error = error
        self.can_retry = can_retry
        self.attempt = attempt


class RequestTimeout(InterlockError):
    """Raised by ``ctx.ask`` when nobody answered before the request's timeout."""


class ValidationFailed(InterlockError):
    """Raised when an answer to a form does not validate; ``errors`` lists ``{field, message}``."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("validation failed")
        self.errors = errors


class AuthError(InterlockError):
    """Base of the errors of user and token management (``interlock.auth``). The message is
    meant for the person who ran the command or request, as is."""


class InvalidName(AuthError):
    """Raised when a user name is empty, too long, or has characters outside
    ``A-Z a-z 0-9 . _ @ -`` (or does not start with a letter or digit)."""


class InvalidPassword(AuthError):
    """Raised when a password to set is empty (or longer than the limit)."""


class UnknownUser(AuthError):
    """Raised when a user name is not in the auth store."""

    def __init__(self, name: str) -> None:
        super().__init__(f"no user named {name!r}")
        self.name = name


class DuplicateUser(AuthError):
    """Raised when adding a user whose name is taken."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a user named {name!r} already exists")
        self.name = name


class UnknownToken(AuthError):
    """Raised when a token id is not in the auth store (or, over REST, not the caller's)."""

    def __init__(self, token_id: str) -> None:
        super().__init__(f"no token with id {token_id!r}")
        self.token_id = token_id
