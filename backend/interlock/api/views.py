"""Response models of the REST routes, and how session-layer objects become them.

Every JSON route declares one of these as its response model, so the OpenAPI document states
each shape (statuses and request kinds as enums) and the console's TypeScript types are
generated from it (``python -m interlock.schema --openapi``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from .. import protocol as p
from ..auth import Role
from ..manager import SessionManager
from ..sessions import Session
from ..states import RequestKind, ResolveReason, TaskStatus
from ..store import RequestRecord, TaskRecord
from ..tasks.registry import TaskType, default_title

#: A timestamp as ISO 8601 text (UTC, with offset), or null when it has not happened.
Timestamp = Annotated[str | None, Field(json_schema_extra={"format": "date-time"})]

#: The open request as it was sent on the WebSocket.
PendingRequest = Annotated[p.RequestConfirmation | p.RequestUserInput, Field(discriminator="type")]


class Detail(BaseModel):
    """An error: ``detail`` says what went wrong."""

    detail: str


class Health(BaseModel):
    """Readiness of the server: ``degraded`` (HTTP 503) while the store refuses writes."""

    status: Literal["ok", "degraded"] = "ok"
    service: Literal["interlock"] = "interlock"
    version: str
    ws_fast_path: bool = Field(
        description="Whether WebSockets use the fast path (interlock.wire's uvicorn protocol)"
    )
    reason: str | None = Field(None, description="Why the server is degraded")


class TaskTypeView(BaseModel):
    """A task type the server can run (``GET /task-types``)."""

    name: str = Field(description="What POST /tasks takes as ``task_type``")
    title: str = Field(description="Human title, e.g. 'Axis movement'")
    description: str
    parameters_schema: dict[str, Any] = Field(
        description="JSON Schema of the parameters; axis-id fields carry "
        "``x-interlock-widget: axis`` (on the items of a list)"
    )
    timeout: float | None = Field(description="Seconds before the task fails; null: no limit")
    role: Role = Field(description="The least role that may start it")

    @classmethod
    def of(cls, task_type: TaskType) -> TaskTypeView:
        return cls.model_validate(task_type.describe())


class ArtifactView(BaseModel):
    """A file a task produced, downloadable at ``url``."""

    name: str
    content_type: str
    url: str


class TaskView(BaseModel):
    """A task as ``GET /tasks`` and ``GET /tasks/{id}`` show it (PyAMA's fields plus session
    details). ``session_id`` equals ``task_id``."""

    task_id: str
    session_id: str
    task_type: str
    task_title: str = Field(description="The task type's human title")
    parameters: dict[str, Any]
    status: TaskStatus
    progress: float
    message: str | None
    stage: str | None
    created_at: Timestamp
    started_at: Timestamp
    completed_at: Timestamp
    result: Any
    error: str | None
    pending_request: PendingRequest | None = Field(
        description="The open request as sent on the WebSocket; null when none is open"
    )
    queue_position: int | None = Field(description="1 = next to start; null when not queued")
    queued_reason: str | None = Field(
        description="With Redis, for a task no worker took yet: why (no worker runs its "
        "type, or it waits for a slot or a resource); null otherwise",
    )
    last_seq: int
    artifacts: list[ArtifactView]
    respondents: list[str] | None = Field(
        description="Who may answer its prompts (and admins); null: any operator"
    )
    created_by: str | None = Field(description="Who started it; null with authentication off")
    cancelled_by: str | None = Field(
        description="Who cancelled it; null when nobody did (or the server did: see the "
        "reason), and with authentication off"
    )


class MessagePageView(BaseModel):
    """A page of a session's whole log (``GET /tasks/{id}/messages``)."""

    messages: list[p.ServerSessionMessage] = Field(
        description="Protocol messages in seq order, each exactly as sent on the WebSocket"
    )
    last_seq: int = Field(description="The newest seq stored (0: none yet)")
    first_seq: int = Field(
        description="The oldest seq stored (0: none); above 1 when older messages were "
        "dropped beyond INTERLOCK_LOG_MAX_MESSAGES"
    )


class CreatedTask(BaseModel):
    """A task was accepted (``POST /tasks``, ``POST /start-task``)."""

    task_id: str
    session_id: str
    status: TaskStatus
    message: str | None
    status_url: str
    ws_url: str
    queue_position: int | None
    queued_reason: str | None = Field(
        description="With Redis: why no worker took it yet (see TaskView)"
    )


class CancelledTask(BaseModel):
    """``DELETE /tasks/{id}``: the task has ended cancelled."""

    task_id: str
    status: Literal[TaskStatus.CANCELLED]
    message: str


class CancelledSession(BaseModel):
    """``POST /cancel-task/{id}`` (the POC's shape of ``CancelledTask``)."""

    session_id: str
    status: Literal[TaskStatus.CANCELLED]
    message: str


class AnswerAccepted(BaseModel):
    """``POST /tasks/{id}/answer``: the answer was taken (first answer wins)."""

    task_id: str
    request_id: str | None
    status: Literal["answered"]


class AnswerRefused(BaseModel):
    """The answer was not taken: ``code`` as in the WebSocket ``error`` message."""

    detail: str
    code: p.ErrorCode
    errors: list[p.FieldError]


class RequestView(BaseModel):
    """One entry of the audit trail (``GET /tasks/{id}/requests``)."""

    request_id: str
    seq: int
    kind: RequestKind | Literal["input"] = Field(
        description="A confirmation's kind, or ``input`` for a form"
    )
    prompt: str
    details: dict[str, Any] | None
    request: dict[str, Any] = Field(description="The request as sent on the WebSocket")
    status: ResolveReason | Literal["open"]
    answer: bool | dict[str, Any] | None
    answered_by: p.Answerer | None
    resolved_at: Timestamp

    @classmethod
    def of(cls, record: RequestRecord) -> RequestView:
        return cls(
            request_id=record.request_id,
            seq=record.seq,
            kind=_request_kind(record.kind),
            prompt=record.prompt,
            details=record.payload.get("details"),
            request=record.payload,
            status=_request_status(record.status),
            answer=record.answer,
            answered_by=p.Answerer.model_validate(record.answered_by)
            if record.answered_by
            else None,
            resolved_at=_iso(record.resolved_at),
        )


class SessionInfo(BaseModel):
    """``GET /session-info/{id}``: connection and history facts (for debugging clients)."""

    session_id: str
    is_connected: bool
    connections: int
    saved_state_messages: int
    task_exists: bool
    status: TaskStatus | None


class AxisView(BaseModel):
    """One axis: where it is, whether it moves, its unit and soft limits."""

    id: str
    name: str
    unit: str = Field(description="Unit of positions, e.g. 'um' or 'deg'; speeds are unit/s")
    position: float | None = Field(
        description="The last position read; null when the link is down and none ever was"
    )
    moving: bool
    min: float
    max: float
    state: Literal["idle", "moving", "fault"] = Field(
        description="'fault' while the axis reports a fault (the controller's link is down, "
        "a drive alarm), else 'moving' or 'idle'"
    )
    fault: str | None = Field(description="Why the axis is in fault; null when it is not")


class HardwareView(BaseModel):
    """``GET /hardware``: the controller, whether its link is up, and every axis."""

    controller: str
    connected: bool = Field(
        description="Whether the controller's link is up; while it is down every axis is in "
        "fault and the controller reconnects with backoff"
    )
    axes: list[AxisView]
    workers: list[WorkerHardwareView] | None = Field(
        default=None,
        description="With Redis: every live worker that owns a controller, with its axes "
        "(the fields above are this process's controller, or the first worker's)",
    )


class WorkerHardwareView(BaseModel):
    """One worker's controller in ``GET /hardware`` (with Redis)."""

    worker: str = Field(description="The worker's id")
    host: str = Field(description="host:pid of the worker process")
    controller: str | None = None
    connected: bool = False
    axes: list[AxisView] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why its axes could not be read")


class AxisStopError(BaseModel):
    axis: str
    error: str


class StopReport(BaseModel):
    """``POST /hardware/stop``: axes stopped, tasks cancelled, axes that refused."""

    stopped: list[str]
    cancelled: list[str]
    errors: list[AxisStopError]


class StopFailed(StopReport):
    """502 of ``POST /hardware/stop``: some axes did not accept the stop."""

    detail: str


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _request_kind(kind: str) -> RequestKind | Literal["input"]:
    return "input" if kind == "input" else RequestKind(kind)


def _request_status(status: str) -> ResolveReason | Literal["open"]:
    return "open" if status == "open" else ResolveReason(status)


def task_row(
    record: TaskRecord, session: Session | None, manager: SessionManager
) -> dict[str, Any]:
    """A task as ``TaskView``'s fields in its order, as JSON-ready values (not validated):
    ``GET /tasks`` serializes a page of these at once (``TASK_ROWS``) instead of building a
    model per task. Its ``pending_request`` is the wire dict, which the model's dump is."""
    registry = manager.registry
    task_type = record.task_type
    task_id = record.task_id
    artifacts = session.artifacts if session is not None else None
    return {
        "task_id": task_id,
        "session_id": task_id,
        "task_type": task_type,
        "task_title": registry.get(task_type).title
        if task_type in registry
        else default_title(task_type),
        "parameters": record.parameters,
        "status": record.status,
        "progress": float(record.progress),
        "message": record.message,
        "stage": record.stage,
        "created_at": _iso(record.created_at),
        "started_at": _iso(record.started_at),
        "completed_at": _iso(record.completed_at),
        "result": record.result,
        "error": record.error,
        "pending_request": session.pending_message() if session is not None else None,
        "queue_position": manager.queue_position(session) if session is not None else None,
        "queued_reason": session.queued_reason if session is not None else None,
        "last_seq": record.last_seq,
        "artifacts": [
            {"name": name, "content_type": ctype, "url": f"/tasks/{task_id}/artifacts/{name}"}
            for name, ctype in sorted(artifacts.items())
        ]
        if artifacts
        else [],
        "respondents": record.respondents,
        "created_by": record.created_by,
        "cancelled_by": record.cancelled_by,
    }


#: Serializes a page of ``task_row``s to the JSON ``list[TaskView]`` would give them
#: (``check_varied_list`` in tests/api/test_tasks.py holds the two equal, on both stores).
TASK_ROWS: TypeAdapter[list[dict[str, Any]]] = TypeAdapter(list[dict[str, Any]])


def task_view(record: TaskRecord, session: Session | None, manager: SessionManager) -> TaskView:
    """A task from its record and, when this process holds it, its live session."""
    return TaskView.model_validate(task_row(record, session, manager))


def session_view(session: Session, manager: SessionManager) -> TaskView:
    return task_view(session.record, session, manager)
