"""Lifecycle states of tasks and human requests, and the one guarded transition function."""

from __future__ import annotations

import enum

from .exceptions import IllegalTransition


class TaskStatus(enum.StrEnum):
    """Where a task is in its life. Terminal states are final."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    WAITING = "waiting"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        """Running or waiting on a human: the task holds a slot."""
        return self in (TaskStatus.RUNNING, TaskStatus.WAITING)


TERMINAL = frozenset(
    {TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.INTERRUPTED}
)

_ALLOWED: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset(
        {
            TaskStatus.QUEUED,
            TaskStatus.RUNNING,
            TaskStatus.CANCELLED,
            TaskStatus.INTERRUPTED,
            TaskStatus.FAILED,
        }
    ),
    TaskStatus.QUEUED: frozenset(
        {TaskStatus.RUNNING, TaskStatus.CANCELLED, TaskStatus.INTERRUPTED, TaskStatus.FAILED}
    ),
    TaskStatus.RUNNING: frozenset({TaskStatus.WAITING} | TERMINAL),
    TaskStatus.WAITING: frozenset({TaskStatus.RUNNING} | TERMINAL),
}


def transition(current: TaskStatus, target: TaskStatus) -> TaskStatus:
    """Return ``target`` if ``current -> target`` is a legal move, else raise IllegalTransition."""
    if target not in _ALLOWED.get(current, frozenset()):
        raise IllegalTransition(f"illegal task transition {current} -> {target}")
    return target


#: Cancel reason of tasks alive at a graceful stop; they end ``interrupted``, not ``cancelled``.
SHUTDOWN_REASON = "server shutdown"
#: A task's worker stopped renewing its lease (``interlock.cluster``): it ended
#: ``interrupted``, and is never run again.
WORKER_LOST_REASON = "worker lost"
#: Cancel reason when a person cancels (DELETE, the POC route, WebSocket ``cancel``).
OPERATOR_REASON = "cancelled by operator"
#: ``task_interrupted`` reason of tasks found unfinished after a crash.
RESTART_REASON = "server restarted"
#: Cancel reason when the store can never take a session's writes; the task ends ``failed``.
STORE_FAILED_REASON = "store failed"


class RequestKind(enum.StrEnum):
    """What a confirmation asks for; ``hazard`` gates hardware motion."""

    CONFIRM = "confirm"
    RETRY = "retry"
    HAZARD = "hazard"


class ResolveReason(enum.StrEnum):
    """Why a human request closed."""

    ANSWERED = "answered"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
