"""REST for tasks (PyAMA-compatible): submit, list, inspect, cancel, answer, artifacts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from .. import protocol as p
from ..auth import Identity, Role
from ..auth.respondents import MAX_RESPONDENTS, checked_respondents
from ..auth.service import AuthService
from ..exceptions import (
    AnswerRejected,
    Forbidden,
    InvalidParameters,
    InvalidRespondents,
    TaskNotFound,
    UnknownTaskType,
)
from ..manager import CancelOutcome
from ..states import TaskStatus
from ..store import TaskFilter
from .deps import Manager, Operator, require
from .views import (
    TASK_ROWS,
    AnswerAccepted,
    AnswerRefused,
    CancelledTask,
    CreatedTask,
    Detail,
    RequestView,
    TaskTypeView,
    TaskView,
    session_view,
    task_row,
)

router = APIRouter(tags=["tasks"])

CANNOT_CANCEL = "Task cannot be cancelled (not found or already completed)"
#: Error responses of the routes that create a task, as the OpenAPI document states them.
SUBMIT_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": Detail, "description": "The caller's role is below the task type's"},
    409: {"model": Detail, "description": "No slot or resource is free (and not queued)"},
    503: {
        "model": Detail,
        "description": "The store is unavailable, or a check needed the controller and its "
        "link is down (code controller_disconnected); nothing was created",
    },
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Detail}}
#: The HTTP status of an answer refused with a wire code (others: 409).
ANSWER_STATUS = {"validation_error": 422, "forbidden": 403}


class TaskCreate(BaseModel):
    """Body of POST /tasks."""

    model_config = ConfigDict(extra="forbid")
    task_type: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    queue: bool = False
    respondents: list[Annotated[str, Field(max_length=64)]] | None = Field(
        default=None,
        max_length=MAX_RESPONDENTS,
        description="Users who may answer the task's prompts (admins always may); omit it "
        "and any operator may. Needs authentication on; each must be an operator or admin.",
    )


class AnswerBody(BaseModel):
    """Body of POST /tasks/{id}/answer: the ``request_id`` of the prompt being answered, and
    ``value`` (JSON true/false) for a confirmation or ``values`` for a form."""

    model_config = ConfigDict(extra="forbid")
    request_id: str = Field(min_length=1)
    value: StrictBool | None = None
    values: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> AnswerBody:
        if (self.value is None) == (self.values is None):
            raise ValueError("send exactly one of 'value' (confirmation) or 'values' (form)")
        return self


def unprocessable(errors: list[tuple[list[str | int], str]]) -> JSONResponse:
    return JSONResponse(
        status_code=422,
        content={
            "detail": [{"loc": loc, "msg": msg, "type": "value_error"} for loc, msg in errors]
        },
    )


async def submit(
    manager: Manager,
    task_type: str,
    parameters: dict[str, Any],
    queue: bool,
    caller: Identity,
    respondents: list[str] | None = None,
) -> dict[str, Any] | JSONResponse:
    """Create a session; shared by POST /tasks and POST /start-task."""
    try:
        session = await manager.create(
            task_type, parameters, queue=queue, caller=caller, respondents=respondents
        )
    except Forbidden as exc:
        raise HTTPException(403, exc.detail) from None
    except UnknownTaskType:
        names = ", ".join(manager.registry.names())
        return unprocessable(
            [(["body", "task_type"], f"Unknown task type {task_type!r}; available: {names}")]
        )
    except InvalidParameters as exc:
        return unprocessable(
            [(["body", "parameters", *e["field"].split(".")], e["message"]) for e in exc.errors]
        )
    status = session.status
    return {
        "task_id": session.id,
        "session_id": session.id,
        "status": status.value,
        "message": session.record.message,
        "status_url": f"/tasks/{session.id}",
        "ws_url": f"/ws/{session.id}",
        "queue_position": manager.queue_position(session),
        "queued_reason": session.queued_reason,
    }


@router.get("/task-types", dependencies=[Depends(require(Role.VIEWER))])
async def task_types(manager: Manager) -> list[TaskTypeView]:
    """Every task type: name, title, description and the JSON Schema of its parameters."""
    return [TaskTypeView.of(t) for t in manager.registry]


@router.post(
    "/tasks",
    status_code=202,
    response_model=CreatedTask,
    responses=SUBMIT_ERRORS,
)
async def create_task(
    body: TaskCreate, request: Request, caller: Operator, manager: Manager
) -> dict[str, Any] | JSONResponse:
    """Submit a task. 409 when no slot or resource is free (unless ``queue`` is true)."""
    auth: AuthService | None = request.app.state.auth  # None: authentication is off
    try:
        respondents = await checked_respondents(body.respondents, auth.store if auth else None)
    except InvalidRespondents as exc:
        return unprocessable(
            [(["body", "respondents", *([] if i is None else [i])], msg) for i, msg in exc.errors]
        )
    return await submit(manager, body.task_type, body.parameters, body.queue, caller, respondents)


def _utc(value: datetime | None) -> datetime | None:
    """A timestamp without an offset is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@router.get(
    "/tasks",
    response_model=list[TaskView],
    dependencies=[Depends(require(Role.VIEWER))],
    responses={422: {"description": "A filter is malformed (or the date range is empty)"}},
)
async def list_tasks(
    manager: Manager,
    status: TaskStatus | None = None,
    created_by: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this user's tasks")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[
        int, Query(ge=0, le=1_000_000, description="Skip this many (paging: limit, offset)")
    ] = 0,
    task_type: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only tasks of this type")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Only tasks whose id, type, status message, error, creator or "
            "parameters contain this text (ASCII letters in any case)",
        ),
    ] = None,
    created_after: Annotated[
        datetime | None,
        Query(description="Only tasks created at or after this time (ISO 8601; UTC if bare)"),
    ] = None,
    created_before: Annotated[
        datetime | None,
        Query(description="Only tasks created before this time (ISO 8601; UTC if bare)"),
    ] = None,
) -> Response:
    """Tasks, newest first; ``created_by`` only those a user started (none with
    authentication off, where nobody is named). The other filters narrow it further, all
    at once; page through history with ``offset`` (a short page is the last)."""
    after, before = _utc(created_after), _utc(created_before)
    if after is not None and before is not None and after >= before:
        return unprocessable([(["query", "created_before"], "must be after created_after")])
    where = TaskFilter(task_type=task_type, text=q, created_after=after, created_before=before)
    records = await manager.list_records(
        status.value if status else None, limit, created_by, offset=offset, where=where
    )
    # One serializer call for the page, no model per task: 100 TaskViews took ~1.1 ms to
    # build and dump (and FastAPI checked each again), their rows take ~0.6 ms.
    sessions = manager.sessions
    rows = []
    for record in records:
        session = sessions.get(record.task_id)
        rows.append(task_row(session.record if session else record, session, manager))
    # With Redis: where each task no worker took yet waits, and why (as GET /tasks/{id}).
    for row, (place, why) in zip(rows, await manager.waiting_of(records), strict=True):
        if place is not None or why is not None:
            row["queue_position"], row["queued_reason"] = place, why
    return Response(TASK_ROWS.dump_json(rows), media_type="application/json")


@router.get("/tasks/current/info", dependencies=[Depends(require(Role.VIEWER))])
async def current_task(manager: Manager) -> TaskView | None:
    """The active (running or waiting) task, or null."""
    session = await manager.current_anywhere()
    return session_view(session, manager) if session else None


@router.get("/tasks/{task_id}", responses=NOT_FOUND, dependencies=[Depends(require(Role.VIEWER))])
async def get_task(task_id: str, manager: Manager) -> TaskView:
    try:
        session = await manager.get(task_id)
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    await manager.refresh_waiting(session)
    return session_view(session, manager)


async def cancelled_or_raise(manager: Manager, task_id: str, caller: Identity) -> None:
    """Cancel (as ``caller``) and wait for the end: 400 when there is nothing to cancel, 504
    when the task did not end within the cancel timeout (it may still be stopping)."""
    outcome = await manager.cancel_and_wait(task_id, by=caller.user)
    if outcome is CancelOutcome.NOT_ACTIVE:
        raise HTTPException(400, CANNOT_CANCEL)
    if outcome is CancelOutcome.STILL_RUNNING:
        raise HTTPException(504, f"Task did not stop within {manager.settings.cancel_timeout:g} s")


@router.delete(
    "/tasks/{task_id}",
    response_model=CancelledTask,
    responses={400: {"model": Detail}, 504: {"model": Detail}},
)
async def cancel_task(task_id: str, caller: Operator, manager: Manager) -> dict[str, Any]:
    """Cancel a queued, running or waiting task; answers once it has ended. Any operator
    may, whoever the task's respondents are: a cancel stops motion."""
    await cancelled_or_raise(manager, task_id, caller)
    return {"task_id": task_id, "status": "cancelled", "message": "Task cancelled successfully"}


@router.post(
    "/tasks/{task_id}/answer",
    response_model=AnswerAccepted,
    responses={
        **NOT_FOUND,
        403: {"model": Detail, "description": "Not one of the task's respondents"},
        409: {"model": AnswerRefused, "description": "Already answered, stale, or none open"},
    },
)
async def answer(
    task_id: str, body: AnswerBody, request: Request, caller: Operator, manager: Manager
) -> dict[str, Any] | JSONResponse:
    """Answer the open request over HTTP; same rules as the WebSocket (first answer wins)."""
    client = request.client
    answerer = p.Answerer(
        client=f"{client.host}:{client.port}" if client else None,
        user=caller.user,
        role=caller.named_role,
        via="http",
    )
    try:
        rid = await manager.answer(
            task_id, body.request_id, answerer, value=body.value, values=body.values
        )
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    except AnswerRejected as exc:
        status = ANSWER_STATUS.get(exc.code, 409)
        return JSONResponse(
            status_code=status,
            content={"detail": exc.message, "code": exc.code, "errors": exc.errors},
        )
    return {"task_id": task_id, "request_id": rid, "status": "answered"}


@router.get(
    "/tasks/{task_id}/requests", responses=NOT_FOUND, dependencies=[Depends(require(Role.VIEWER))]
)
async def requests(task_id: str, manager: Manager) -> list[RequestView]:
    """The audit trail: every request of the task, what it asked, the answer, who gave it."""
    try:
        records = await manager.requests(task_id)
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    return [RequestView.of(r) for r in records]


@router.get(
    "/tasks/{task_id}/artifacts/{name}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **NOT_FOUND},
    dependencies=[Depends(require(Role.VIEWER))],
)
async def artifact(task_id: str, name: str, manager: Manager) -> Response:
    """Download a file the task produced."""
    found = await manager.artifact(task_id, name)
    if found is None:
        raise HTTPException(404, f"No artifact {name!r} for task {task_id}")
    return Response(
        found.data,
        media_type=found.content_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
