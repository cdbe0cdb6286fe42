"""Every WebSocket message, defined once.

Server -> client messages that belong to a session carry ``seq`` (1, 2, 3, ... per
session, never reused) and ``ts`` (ISO 8601). Connection-level messages carry neither.
The TypeScript types and the docs' message table are generated from these models
(``python -m interlock.schema``), and tests fail when the committed copies drift.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, StrictBool, TypeAdapter

from .auth.roles import Role
from .states import RequestKind, ResolveReason, TaskStatus

JSON = Any


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --------------------------------------------------------------------------- session messages


class SessionMessage(_Message):
    """Base of messages saved in a session's history and replayed on reconnect."""

    seq: int = 0
    ts: str = ""


class Stream(SessionMessage):
    """A line of task output."""

    type: Literal["stream"] = "stream"
    content: str


class Progress(SessionMessage):
    """Progress 0-100 with an optional message, stage and structured details."""

    type: Literal["progress"] = "progress"
    progress: float = Field(ge=0, le=100)
    message: str | None = None
    stage: str | None = None
    details: dict[str, JSON] | None = None


class Status(SessionMessage):
    """The task moved to a new lifecycle state."""

    type: Literal["status"] = "status"
    status: TaskStatus


class RequestConfirmation(SessionMessage):
    """The task waits for a yes/no. ``default`` is what a timeout answers.

    ``respondents`` are who may answer besides admins (null: any operator)."""

    type: Literal["request_confirmation"] = "request_confirmation"
    request_id: str
    prompt: str
    kind: RequestKind = RequestKind.CONFIRM
    details: dict[str, JSON] | None = None
    timeout: float | None = None
    default: bool = False
    respondents: list[str] | None = None


class InputField(_Message):
    """One field of an input form (the POC's shape)."""

    name: str
    description: str = ""
    type: str = "string"
    value: JSON = None
    required: bool = True


class RequestUserInput(SessionMessage):
    """The task waits for a form; ``schema`` is the JSON Schema the answer must satisfy.

    ``respondents`` are who may answer besides admins (null: any operator)."""

    type: Literal["request_user_input"] = "request_user_input"
    request_id: str
    prompt: str
    fields: list[InputField]
    schema_: dict[str, JSON] = Field(alias="schema", serialization_alias="schema")
    timeout: float | None = None
    respondents: list[str] | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class Answerer(_Message):
    """Who resolved a request: a connection (WebSocket), or an HTTP client; with
    authentication on, the signed-in ``user`` and their ``role`` (both null when it is off)."""

    connection_id: str | None = None
    client: str | None = None
    user: str | None = None
    role: Role | None = None
    via: Literal["websocket", "http", "server"] = "websocket"


class RequestResolved(SessionMessage):
    """A request closed: answered (first answer wins), timed out, or cancelled."""

    type: Literal["request_resolved"] = "request_resolved"
    request_id: str
    answered_by: Answerer | None = None
    value: bool | None = None
    values: dict[str, JSON] | None = None
    reason: ResolveReason


class AttemptFailed(SessionMessage):
    """One attempt failed; a ``request_confirmation`` with ``kind: retry`` may follow."""

    type: Literal["attempt_failed"] = "attempt_failed"
    error: str
    attempt: int
    max_attempts: int


class TaskCompleted(SessionMessage):
    """Terminal: the task returned ``result``; ``values`` holds the forms it was given."""

    type: Literal["task_completed"] = "task_completed"
    result: JSON = None
    values: dict[str, JSON] | None = None


class TaskFailed(SessionMessage):
    """Terminal: the task failed."""

    type: Literal["task_failed"] = "task_failed"
    error: str
    can_retry: bool = False
    attempt: int | None = None


class TaskCancelled(SessionMessage):
    """Terminal: the task was cancelled (by a person, or ``declined``)."""

    type: Literal["task_cancelled"] = "task_cancelled"
    reason: str
    position: float | None = None


class LostAxis(_Message):
    """An axis a lost worker drove, as it last reported it (it may have moved since)."""

    axis: str
    position: float | None = None
    unit: str | None = None


class TaskInterrupted(SessionMessage):
    """Terminal: the server stopped while the task was alive (``server shutdown``), or,
    with several processes on Redis, the worker running it stopped renewing its lease
    (``worker lost``: then ``axes`` are the axes it drove, as it last reported them)."""

    type: Literal["task_interrupted"] = "task_interrupted"
    reason: str
    axes: list[LostAxis] | None = None


ServerSessionMessage = Annotated[
    Stream
    | Progress
    | Status
    | RequestConfirmation
    | RequestUserInput
    | RequestResolved
    | AttemptFailed
    | TaskCompleted
    | TaskFailed
    | TaskCancelled
    | TaskInterrupted,
    Field(discriminator="type"),
]

#: The messages that end a session (one of them is always its last message).
TERMINAL_MODELS: tuple[type[SessionMessage], ...] = (
    TaskCompleted,
    TaskFailed,
    TaskCancelled,
    TaskInterrupted,
)


def type_of(model: type[BaseModel]) -> str:
    """The ``type`` literal a message model carries on the wire."""
    literal: str = get_args(model.model_fields["type"].annotation)[0]
    return literal


def members(union: Any) -> tuple[type[BaseModel], ...]:
    """The models of an ``Annotated[A | B | ..., Field(discriminator="type")]`` union."""
    return tuple(get_args(get_args(union)[0]))


TERMINAL_TYPES = frozenset(type_of(m) for m in TERMINAL_MODELS)

# ------------------------------------------------------------------------ connection messages


class StateReplayStart(_Message):
    """First message on every connection: what the replay holds."""

    type: Literal["state_replay_start"] = "state_replay_start"
    count: int
    truncated: bool
    status: TaskStatus
    pending_request_id: str | None


class StateReplayComplete(_Message):
    """Replay is over; live messages follow. ``last_seq`` is the newest seq replayed or known."""

    type: Literal["state_replay_complete"] = "state_replay_complete"
    last_seq: int


class FieldError(_Message):
    field: str
    message: str


ErrorCode = Literal[
    "invalid_json",
    "unknown_type",
    "validation_error",
    "no_pending_request",
    "stale_request",
    "already_answered",
    "session_not_found",
    "invalid_since",
    "task_not_active",
    "store_unavailable",
    "forbidden",
    "rate_limited",
]


class Error(_Message):
    """Sent to one connection only; the connection stays open unless documented otherwise."""

    type: Literal["error"] = "error"
    code: ErrorCode
    message: str
    errors: list[FieldError] = []


class Pong(_Message):
    """Reply to `ping`."""

    type: Literal["pong"] = "pong"


class Watcher(_Message):
    """One tab watching a session that announced itself (``presence``)."""

    connection_id: str
    user: str | None = Field(description="The signed-in user; null with authentication off")
    answering: str | None = Field(
        description="The request whose form this tab has focused; null when none"
    )


class Presence(_Message):
    """Who watches the session now; only to tabs that sent ``presence``. Never stored.

    Sent when it changes, at most every 0.25 s per session (the latest state). ``you`` is
    the receiving tab's ``connection_id``; ``tabs`` counts every WebSocket watching on
    this server, ``watchers`` the first 50 that announced themselves. Informational only."""

    type: Literal["presence"] = "presence"
    you: str
    tabs: int
    watchers: list[Watcher]


ServerConnectionMessage = Annotated[
    StateReplayStart | StateReplayComplete | Error | Pong | Presence, Field(discriminator="type")
]

# ---------------------------------------------------------------------- client -> server


class Confirm(_Message):
    """Answer a confirmation with JSON true/false; `hazard` prompts need `request_id`.

    Without ``request_id`` it answers the open request (not a ``hazard`` one); ``value``
    must be a JSON boolean: ``"yes"``, ``1`` or ``"on"`` are a ``validation_error``."""

    type: Literal["confirm"]
    value: StrictBool
    request_id: str | None = None


class UserInput(_Message):
    """Answer an input form. Without ``request_id`` it answers the open request."""

    type: Literal["user_input"]
    values: dict[str, JSON]
    request_id: str | None = None


class Cancel(_Message):
    """Cancel the session's task."""

    type: Literal["cancel"]


class Ping(_Message):
    """Keep-alive; answered with ``pong``."""

    type: Literal["ping"]


class SetPresence(_Message):
    """Announce this tab (it then gets `presence`) and the prompt it is answering, if any.

    ``answering`` is the request whose form this tab has in use (operators only; a stale id
    counts as none), null when none. Each one counts against the message rate limit."""

    type: Literal["presence"]
    answering: str | None = Field(default=None, max_length=64)


ClientMessage = Annotated[
    Confirm | UserInput | Cancel | Ping | SetPresence, Field(discriminator="type")
]

CLIENT_TYPES = frozenset(type_of(m) for m in members(ClientMessage))
client_message_adapter: TypeAdapter[Confirm | UserInput | Cancel | Ping | SetPresence] = (
    TypeAdapter(ClientMessage)
)
