"""The POC's routes, kept for its clients: /start-task, /cancel-task, /session-info."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from ..auth import Role
from ..exceptions import TaskNotFound
from .deps import Manager, Operator, require
from .tasks import SUBMIT_ERRORS, cancelled_or_raise, submit
from .views import CancelledSession, CreatedTask, Detail, SessionInfo

router = APIRouter(tags=["poc"])


class StartBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    task_type: str = "interactive_demo"
    parameters: dict[str, Any] = Field(default_factory=dict)
    queue: bool = False


@router.post(
    "/start-task",
    response_model=CreatedTask,
    responses=SUBMIT_ERRORS,
)
async def start_task(
    manager: Manager, caller: Operator, body: StartBody | None = None
) -> dict[str, Any] | JSONResponse:
    """Start a task (default ``interactive_demo``); the body is optional."""
    body = body or StartBody()
    return await submit(manager, body.task_type, body.parameters, body.queue, caller)


@router.post(
    "/cancel-task/{session_id}",
    response_model=CancelledSession,
    responses={400: {"model": Detail}},
)
async def cancel_task(session_id: str, caller: Operator, manager: Manager) -> dict[str, Any]:
    await cancelled_or_raise(manager, session_id, caller)
    return {
        "session_id": session_id,
        "status": "cancelled",
        "message": "Task cancelled successfully",
    }


@router.get("/session-info/{session_id}", dependencies=[Depends(require(Role.VIEWER))])
async def session_info(session_id: str, manager: Manager) -> SessionInfo:
    """Connection and history facts about a session (for debugging clients)."""
    try:
        session = await manager.get(session_id)
    except TaskNotFound:
        return SessionInfo(
            session_id=session_id,
            is_connected=False,
            connections=0,
            saved_state_messages=0,
            task_exists=False,
            status=None,
        )
    count = manager.watchers(session_id)
    return SessionInfo(
        session_id=session_id,
        is_connected=count > 0,
        connections=count,
        saved_state_messages=len(session.history),
        task_exists=True,
        status=session.status,
    )
