"""REST for tasks (PyAMA-compatible): submit, list, inspect, cancel, answer, artifacts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from .. import protocol as p
from ..exceptions import AnswerRejected, InvalidParameters, TaskNotFound, UnknownTaskType
from ..manager import CancelOutcome
from ..states import TaskStatus
from .deps import Manager
from .views import session_view, task_view

router = APIRouter(tags=["tasks"])

CANNOT_CANCEL = "Task cannot be cancelled (not found or already completed)"


class TaskCreate(BaseModel):
    """Body of POST /tasks."""

    model_config = ConfigDict(extra="forbid")
    task_type: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    queue: bool = False


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
    manager: Manager, task_type: str, parameters: dict[str, Any], queue: bool
) -> dict[str, Any] | JSONResponse:
    """Create a session; shared by POST /tasks and POST /start-task."""
    try:
        session = await manager.create(task_type, parameters, queue=queue)
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
    }


@router.get("/task-types")
async def task_types(manager: Manager) -> list[dict[str, Any]]:
    """Every task type: name, description and the JSON Schema of its parameters."""
    return [t.describe() for t in manager.registry]


@router.post("/tasks", status_code=202, response_model=None)
async def create_task(body: TaskCreate, manager: Manager) -> dict[str, Any] | JSONResponse:
    """Submit a task. 409 when no slot or resource is free (unless ``queue`` is true)."""
    return await submit(manager, body.task_type, body.parameters, body.queue)


@router.get("/tasks")
async def list_tasks(
    manager: Manager,
    status: TaskStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Tasks, newest first."""
    records = await manager.list_records(status.value if status else None, limit)
    out = []
    for record in records:
        session = manager.sessions.get(record.task_id)
        out.append(session_view(session, manager) if session else task_view(record, None, manager))
    return out


@router.get("/tasks/current/info")
async def current_task(manager: Manager) -> dict[str, Any] | None:
    """The active (running or waiting) task, or null."""
    session = manager.current()
    return session_view(session, manager) if session else None


@router.get("/tasks/{task_id}")
async def get_task(task_id: str, manager: Manager) -> dict[str, Any]:
    try:
        session = await manager.get(task_id)
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    return session_view(session, manager)


async def cancelled_or_raise(manager: Manager, task_id: str) -> None:
    """Cancel and wait for the end: 400 when there is nothing to cancel, 504 when the task
    did not end within the cancel timeout (it may still be stopping)."""
    outcome = await manager.cancel_and_wait(task_id)
    if outcome is CancelOutcome.NOT_ACTIVE:
        raise HTTPException(400, CANNOT_CANCEL)
    if outcome is CancelOutcome.STILL_RUNNING:
        raise HTTPException(504, f"Task did not stop within {manager.settings.cancel_timeout:g} s")


@router.delete("/tasks/{task_id}")
async def cancel_task(task_id: str, manager: Manager) -> dict[str, Any]:
    """Cancel a queued, running or waiting task; answers once it has ended."""
    await cancelled_or_raise(manager, task_id)
    return {"task_id": task_id, "status": "cancelled", "message": "Task cancelled successfully"}


@router.post("/tasks/{task_id}/answer", response_model=None)
async def answer(
    task_id: str, body: AnswerBody, request: Request, manager: Manager
) -> dict[str, Any] | JSONResponse:
    """Answer the open request over HTTP; same rules as the WebSocket (first answer wins)."""
    client = request.client
    answerer = p.Answerer(client=f"{client.host}:{client.port}" if client else None, via="http")
    try:
        rid = await manager.answer(
            task_id, body.request_id, answerer, value=body.value, values=body.values
        )
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    except AnswerRejected as exc:
        status = 422 if exc.code == "validation_error" else 409
        return JSONResponse(
            status_code=status,
            content={"detail": exc.message, "code": exc.code, "errors": exc.errors},
        )
    return {"task_id": task_id, "request_id": rid, "status": "answered"}


@router.get("/tasks/{task_id}/requests")
async def requests(task_id: str, manager: Manager) -> list[dict[str, Any]]:
    """The audit trail: every request of the task, what it asked, the answer, who gave it."""
    try:
        records = await manager.requests(task_id)
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    return [
        {
            "request_id": r.request_id,
            "seq": r.seq,
            "kind": r.kind,
            "prompt": r.prompt,
            "details": r.payload.get("details"),
            "request": r.payload,
            "status": r.status,
            "answer": r.answer,
            "answered_by": r.answered_by,
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at else None,
        }
        for r in records
    ]


@router.get("/tasks/{task_id}/artifacts/{name}")
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
