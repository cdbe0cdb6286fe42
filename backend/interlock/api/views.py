"""JSON shapes of REST responses, built from session-layer objects."""

from __future__ import annotations

from typing import Any

from ..manager import SessionManager
from ..sessions import Session
from ..store import TaskRecord


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def task_view(
    record: TaskRecord, session: Session | None, manager: SessionManager
) -> dict[str, Any]:
    """A task as GET /tasks/{id} shows it (PyAMA's fields plus session details)."""
    artifacts = session.artifacts if session is not None else {}
    return {
        "task_id": record.task_id,
        "session_id": record.task_id,
        "task_type": record.task_type,
        "parameters": record.parameters,
        "status": record.status,
        "progress": record.progress,
        "message": record.message,
        "stage": record.stage,
        "created_at": _iso(record.created_at),
        "started_at": _iso(record.started_at),
        "completed_at": _iso(record.completed_at),
        "result": record.result,
        "error": record.error,
        "pending_request": session.pending_message() if session is not None else None,
        "queue_position": manager.queue_position(session) if session is not None else None,
        "last_seq": record.last_seq,
        "artifacts": [
            {
                "name": name,
                "content_type": ctype,
                "url": f"/tasks/{record.task_id}/artifacts/{name}",
            }
            for name, ctype in sorted(artifacts.items())
        ],
    }


def session_view(session: Session, manager: SessionManager) -> dict[str, Any]:
    return task_view(session.record, session, manager)
