"""What a task sees (``TaskContext``) and how a task is run to a terminal state."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from . import protocol as p
from .exceptions import RequestTimeout, TaskCancelled, TaskFailed
from .forms import Form, FormSpec
from .logs import REQUEST_ID, SESSION_ID
from .states import (
    SHUTDOWN_REASON,
    STORE_FAILED_REASON,
    WORKER_LOST_REASON,
    RequestKind,
    ResolveReason,
    TaskStatus,
)
from .store import Artifact
from .uploads import Upload, input_files
from .uploads.fields import uploads_of

if TYPE_CHECKING:
    from .sessions import Session
    from .tasks.registry import TaskType

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R")


class TaskContext(Generic[P]):
    """The handle a task gets: its parameters, output, progress, and people to ask."""

    def __init__(self, session: Session, params: P, *, services: dict[str, Any] | None = None):
        self._session = session
        self.params: P = params
        self.session_id = session.id
        self.log = logging.getLogger(f"interlock.task.{session.record.task_type}")
        #: Shared services the app wires in (e.g. ``controller``).
        self.services: dict[str, Any] = services or {}

    # ------------------------------------------------------------------------ output

    async def stream(self, text: str) -> None:
        """Send a line of output to every tab."""
        self._session.emit(p.Stream(content=text))
        await self._session.journal.backpressure()

    async def progress(
        self,
        percent: float,
        message: str | None = None,
        stage: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Report progress (0-100, clamped) with an optional message, stage and details."""
        self._session.set_progress(max(0.0, min(100.0, float(percent))), message, stage, details)
        await self._session.journal.backpressure()

    async def attempt_failed(self, error: str, attempt: int, max_attempts: int) -> None:
        """Report a failed attempt (a retry confirmation usually follows)."""
        self._session.emit(p.AttemptFailed(error=error, attempt=attempt, max_attempts=max_attempts))

    def input_path(self, field: str) -> Path:
        """The uploaded file of the input-file parameter ``field`` (``"files.0"`` for an item
        of a list). Read it, never write it: it is the stored upload, which other tasks may
        share. It exists until the task has ended."""
        ref = input_files(self.params).get(field)
        if ref is None:
            raise KeyError(f"parameter {field!r} is not an input file")
        return uploads_of(self.services).path(ref)

    async def input_file(self, field: str) -> Upload:
        """What is known of the uploaded file of ``field``: its original name, size, sha256."""
        ref = input_files(self.params).get(field)
        if ref is None:
            raise KeyError(f"parameter {field!r} is not an input file")
        upload = await uploads_of(self.services).get(ref)
        if upload is None:
            raise TaskFailed(f"the upload of {field!r} is gone")
        return upload

    def add_artifact(self, name: str, data: bytes, content_type: str = "text/csv") -> None:
        """Store a file; it is listed in the task and downloadable under its ``name``."""
        self._session.journal.put_artifact(Artifact(self.session_id, name, content_type, data))
        self._session.artifacts[name] = content_type

    # --------------------------------------------------------------------- humans

    async def confirm(
        self,
        prompt: str,
        *,
        details: dict[str, Any] | None = None,
        kind: str = "confirm",
        timeout: float | None = None,
        default: bool = False,
    ) -> bool:
        """Ask yes/no and return the answer. A timeout returns ``default``; a ``hazard``
        confirmation always defaults to No and is never answered by the server."""
        self.check_cancelled()
        req_kind = RequestKind(kind)
        if req_kind is RequestKind.HAZARD:
            default = False
        message = p.RequestConfirmation(
            request_id="",
            prompt=prompt,
            kind=req_kind,
            details=details,
            timeout=timeout,
            default=default,
        )
        answer = await self._wait(message, None, timeout)
        if answer is _TIMED_OUT:
            self._session.resolve(ResolveReason.TIMEOUT, p.Answerer(via="server"), value=default)
            return default
        return bool(answer)

    async def ask(
        self, fields: FormSpec, prompt: str = "Please provide input", timeout: float | None = None
    ) -> dict[str, Any]:
        """Ask for a form (a pydantic model or POC-style field list) and return the validated
        values. Raises RequestTimeout when nobody answers within ``timeout`` seconds."""
        self.check_cancelled()
        form = Form.build(fields)
        message = p.RequestUserInput(
            request_id="",
            prompt=prompt,
            fields=form.fields,
            schema_=form.schema,
            timeout=timeout,
        )
        answer = await self._wait(message, form, timeout)
        if answer is _TIMED_OUT:
            self._session.resolve(ResolveReason.TIMEOUT, p.Answerer(via="server"))
            raise RequestTimeout(f"no answer to {prompt!r} within {timeout}s")
        result: dict[str, Any] = answer
        return result

    async def _wait(
        self,
        message: p.RequestConfirmation | p.RequestUserInput,
        form: Form | None,
        timeout: float | None,
    ) -> Any:
        session = self._session
        req = session.open_request(message, form)
        logged_as = REQUEST_ID.set(req.request_id)
        try:
            async with asyncio.timeout(timeout):
                return await req.future
        except TimeoutError:
            if req.answering is not None:
                # An answer given before the deadline is being stored: it wins if it is.
                await asyncio.shield(req.answering)
            if session.pending is req:
                return _TIMED_OUT
            return req.future.result()
        except BaseException:
            # Cancelled (or torn down) while waiting: close the request for every tab.
            if session.pending is req:
                session.resolve(ResolveReason.CANCELLED)
            raise
        finally:
            REQUEST_ID.reset(logged_as)

    # ------------------------------------------------------------------- cancellation

    @property
    def cancelled(self) -> bool:
        """True once someone asked to cancel this task."""
        return self._session.cancel_event.is_set()

    def check_cancelled(self) -> None:
        """Raise TaskCancelled if the task was cancelled."""
        if self._session.cancel_event.is_set():
            raise TaskCancelled(self._session.cancel_reason or "cancelled")

    @property
    def cancel_flag(self) -> Any:
        """A ``threading.Event`` set on cancel, for polling loops in worker threads."""
        return self._session.cancel_flag

    async def run_blocking(self, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """Run a blocking call in a worker thread; the event loop never blocks."""
        return await asyncio.to_thread(functools.partial(fn, *args, **kwargs))


_TIMED_OUT: Any = object()


async def execute(
    session: Session,
    task_type: TaskType,
    params: BaseModel,
    *,
    default_timeout: float | None,
    services: dict[str, Any] | None = None,
    on_exit: Callable[[Session], Any] | None = None,
) -> None:
    """Run the task to exactly one terminal state, whatever it raises."""
    ctx: TaskContext[Any] = TaskContext(session, params, services=services)
    SESSION_ID.set(session.id)  # this task's own context: every line it logs names it
    session.started = True
    try:
        _complete(session, await _run(ctx, task_type, task_type.timeout or default_timeout))
    except asyncio.CancelledError:
        _uncancel()
        _end_cancelled(session, TaskCancelled(session.cancel_reason or "cancelled"))
    except TaskCancelled as exc:
        # A task may turn the CancelledError into TaskCancelled (e.g. to add the position).
        _uncancel()
        if session.cancel_reason and exc.reason == "cancelled":
            exc.reason = session.cancel_reason
        _end_cancelled(session, exc)
    except TaskFailed as exc:
        _end_failed(session, exc.error, exc.can_retry, exc.attempt)
    except Exception as exc:
        ctx.log.exception("task %s failed", session.id)
        _end_failed(session, f"{type(exc).__name__}: {exc}", False, None)
    finally:
        if session.pending is not None:
            session.resolve(ResolveReason.CANCELLED)
        if on_exit is not None:
            try:
                on_exit(session)
            except Exception:
                ctx.log.exception("cleaning up after task %s failed", session.id)


async def _run(ctx: TaskContext[Any], task_type: TaskType, limit: float | None) -> Any:
    """The task function under its time limit; the result it returned."""
    session = ctx._session
    if session.cancel_event.is_set():  # cancelled before its first step
        raise TaskCancelled(session.cancel_reason or "cancelled")
    session.set_status(TaskStatus.RUNNING)
    try:
        async with asyncio.timeout(limit) as scope:
            return await task_type.fn(ctx)
    except TimeoutError:
        if not scope.expired():
            raise
        raise TaskFailed(f"Task timed out after {limit:g} s") from None


def _complete(session: Session, result: Any) -> None:
    message = p.TaskCompleted(result=result, values=session.values or None)
    try:
        json.dumps(result, allow_nan=False)
        message.model_dump_json()
    except (TypeError, ValueError) as exc:
        raise TaskFailed(f"task result is not JSON serializable: {exc}") from None
    session.record.progress = 100.0
    session.record.result = result
    session.finish(TaskStatus.COMPLETED, message)


def _uncancel() -> None:
    current = asyncio.current_task()
    while current is not None and current.cancelling():
        current.uncancel()


def _end_cancelled(session: Session, exc: TaskCancelled) -> None:
    if session.cancel_reason == STORE_FAILED_REASON:
        _end_failed(session, session.record.error or STORE_FAILED_REASON, False, None)
        return
    if session.cancel_reason in (SHUTDOWN_REASON, WORKER_LOST_REASON):
        session.finish(TaskStatus.INTERRUPTED, p.TaskInterrupted(reason=session.cancel_reason))
        return
    position = exc.details.get("position")
    session.finish(TaskStatus.CANCELLED, p.TaskCancelled(reason=exc.reason, position=position))


def _end_failed(session: Session, error: str, can_retry: bool, attempt: int | None) -> None:
    session.record.error = error
    session.finish(
        TaskStatus.FAILED, p.TaskFailed(error=error, can_retry=can_retry, attempt=attempt)
    )
