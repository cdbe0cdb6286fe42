"""The seed's motion routes: thin aliases over ``axis_movement`` tasks.

``POST /move/relative`` and ``POST /move/absolute`` submit an ``axis_movement`` task exactly as
``POST /tasks`` would (same checks, same hazard confirmation: the task is ``waiting`` until
someone answers on the console, over the WebSocket or with ``POST /tasks/{id}/answer``);
``GET /move/status/{id}`` is its state in the seed's shape and ``POST /move/stop/{id}``
cancels it like ``DELETE /tasks/{id}``.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..auth import Identity, Role
from ..exceptions import Forbidden, InvalidParameters, TaskNotFound
from ..sessions import Session
from ..states import TaskStatus
from .deps import Manager, Operator, require
from .tasks import SUBMIT_ERRORS, cancelled_or_raise, unprocessable
from .views import CancelledTask, Detail

router = APIRouter(prefix="/move", tags=["move"])

TASK_TYPE = "axis_movement"
#: Task parameter -> the alias body's field, for 422 locations.
_FIELDS = {"axis": "axis_id", "target": "position"}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": Detail, "description": "No axis_movement task has this id"}
}


class _MoveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    axis_id: str = Field(description="The axis, e.g. 'x' (a number is taken as its text)")
    speed: float | None = Field(
        default=None, description="unit/s; the axis unit's default when left out"
    )

    @field_validator("axis_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class MoveRelative(_MoveBody):
    """Body of ``POST /move/relative``."""

    distance: float = Field(description="Signed distance in the axis' unit")


class MoveAbsolute(_MoveBody):
    """Body of ``POST /move/absolute``."""

    position: float = Field(description="Target position in the axis' unit")


class MoveAccepted(BaseModel):
    """202 of ``POST /move/relative`` and ``/move/absolute``."""

    task_id: str
    status: TaskStatus = Field(description="'pending' at first; 'waiting' at the confirmation")
    status_url: str = Field(description="/move/status/<task_id>")
    operation_type: Literal["axis_movement"]


class MoveProgress(BaseModel):
    """Where the move is (the latest progress the task reported)."""

    progress_percent: float
    message: str | None
    stage: str | None
    axis: str | None
    current_position: float | None = Field(description="Last position reported, null before")
    target_position: float | None
    unit: str | None


class MoveStatus(BaseModel):
    """``GET /move/status/{id}``."""

    task_id: str
    status: TaskStatus
    progress: MoveProgress
    result: Any = Field(description="{axis, position, target} once completed, else null")
    error: str | None


async def _submit(manager: Manager, caller: Identity, parameters: dict[str, Any]) -> Any:
    try:
        session = await manager.create(TASK_TYPE, parameters, queue=False, caller=caller)
    except Forbidden as exc:
        raise HTTPException(403, exc.detail) from None
    except InvalidParameters as exc:
        return unprocessable(
            [
                (["body", _FIELDS.get(field, field), *rest], e["message"])
                for e in exc.errors
                for field, *rest in [e["field"].split(".")]
            ]
        )
    return MoveAccepted(
        task_id=session.id,
        status=session.status,
        status_url=f"/move/status/{session.id}",
        operation_type=TASK_TYPE,
    )


@router.post("/relative", status_code=202, response_model=MoveAccepted, responses=SUBMIT_ERRORS)
async def move_relative(
    body: MoveRelative, caller: Operator, manager: Manager
) -> MoveAccepted | JSONResponse:
    """Move an axis by ``distance`` (an ``axis_movement`` task; asks a hazard confirmation
    first, so its status is ``waiting`` until someone answers)."""
    parameters = {"axis": body.axis_id, "mode": "relative", "distance": body.distance}
    result: MoveAccepted | JSONResponse = await _submit(
        manager, caller, {**parameters, "speed": body.speed}
    )
    return result


@router.post("/absolute", status_code=202, response_model=MoveAccepted, responses=SUBMIT_ERRORS)
async def move_absolute(
    body: MoveAbsolute, caller: Operator, manager: Manager
) -> MoveAccepted | JSONResponse:
    """Move an axis to ``position`` (an ``axis_movement`` task; asks a hazard confirmation
    first, so its status is ``waiting`` until someone answers)."""
    parameters = {"axis": body.axis_id, "mode": "absolute", "target": body.position}
    result: MoveAccepted | JSONResponse = await _submit(
        manager, caller, {**parameters, "speed": body.speed}
    )
    return result


async def _move(manager: Manager, task_id: str) -> Session:
    try:
        session = await manager.get(task_id)
    except TaskNotFound:
        session = None
    if session is None or session.record.task_type != TASK_TYPE:
        raise HTTPException(404, f"Move not found: {task_id}")
    return session


@router.get(
    "/status/{task_id}",
    response_model=MoveStatus,
    responses=_NOT_FOUND,
    dependencies=[Depends(require(Role.VIEWER))],
)
async def move_status(task_id: str, manager: Manager) -> MoveStatus:
    """The move's status, its latest progress, and its result or error."""
    session = await _move(manager, task_id)
    record = session.record
    return MoveStatus(
        task_id=record.task_id,
        status=session.status,
        progress=_progress(session),
        result=record.result,
        error=record.error,
    )


@router.post(
    "/stop/{task_id}",
    response_model=CancelledTask,
    responses={**_NOT_FOUND, 400: {"model": Detail}, 504: {"model": Detail}},
)
async def move_stop(task_id: str, caller: Operator, manager: Manager) -> CancelledTask:
    """Cancel the move (as ``DELETE /tasks/{id}``): the axis is stopped at once; answers once
    the task has ended. 400 when it already ended."""
    await _move(manager, task_id)
    await cancelled_or_raise(manager, task_id, caller)
    return CancelledTask(
        task_id=task_id, status=TaskStatus.CANCELLED, message="Task cancelled successfully"
    )


def _progress(session: Session) -> MoveProgress:
    record, details = session.record, _last_progress_details(session)
    parameters = record.parameters
    target = parameters.get("target") if parameters.get("mode") == "absolute" else None
    return MoveProgress(
        progress_percent=record.progress,
        message=record.message,
        stage=record.stage,
        axis=parameters.get("axis"),
        current_position=_number(details.get("position")),
        target_position=_number(details.get("target", target)),
        unit=details.get("unit") if isinstance(details.get("unit"), str) else None,
    )


def _last_progress_details(session: Session) -> dict[str, Any]:
    """The details of the newest progress message still in the session's history."""
    for _, data in reversed(session.history):
        if '"type":"progress"' not in data:
            continue
        message = json.loads(data)
        if message.get("type") == "progress":
            details = message.get("details")
            return details if isinstance(details, dict) else {}
    return {}


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
