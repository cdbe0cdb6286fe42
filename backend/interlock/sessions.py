"""A session: one task's state, its message history, and its open human request.

Session id == task id. Everything a session says goes through ``emit``: it gets the next
``seq`` and a timestamp, is serialized once, kept in the bounded history, and handed to the
journal, which writes it and then broadcasts it.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from . import protocol as p
from .auth.respondents import may_answer, refusal
from .exceptions import AnswerRejected, ValidationFailed
from .forms import Form
from .frames import WireText
from .journal import Journal
from .states import RequestKind, ResolveReason, TaskStatus, transition
from .store import RequestRecord, StoredMessage, TaskRecord


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(eq=False)
class PendingRequest:
    """The one open human request of a session."""

    message: p.RequestConfirmation | p.RequestUserInput
    form: Form | None
    future: asyncio.Future[Any]
    record: RequestRecord
    #: Set while an answer is being stored: True once it is applied, False if refused.
    answering: asyncio.Future[bool] | None = None

    @property
    def request_id(self) -> str:
        return self.message.request_id

    @property
    def seq(self) -> int:
        return self.message.seq

    def closed(
        self, reason: ResolveReason, answer: Any, answerer: p.Answerer | None
    ) -> RequestRecord:
        """The request's record as it is stored once closed for ``reason``."""
        return replace(
            self.record,
            status=reason.value,
            answer=answer,
            answered_by=answerer.model_dump() if answerer else None,
            resolved_at=utcnow(),
        )


@dataclass(eq=False)
class Answer:
    """A person's answer that passed every check, to be stored and then applied."""

    request: PendingRequest
    answerer: p.Answerer
    value: bool | None
    values: dict[str, Any] | None

    @property
    def record(self) -> RequestRecord:
        """What the store keeps of it (before the task may act on it)."""
        answer = self.values if self.values is not None else self.value
        return self.request.closed(ResolveReason.ANSWERED, answer, self.answerer)


@dataclass(eq=False)
class Session:
    """State of one task/session. Only the event-loop thread touches it."""

    record: TaskRecord
    journal: Journal
    history_size: int
    #: Messages of the session the store keeps (``INTERLOCK_LOG_MAX_MESSAGES``).
    log_max: int = 100_000
    history: list[tuple[int, str]] = field(default_factory=list)
    published_seq: int = 0
    truncated_upto: int = 0
    pending: PendingRequest | None = None
    resolved: dict[str, ResolveReason] = field(default_factory=dict)
    last_request_id: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    runner: asyncio.Task[None] | None = None
    cancel_reason: str | None = None
    #: Who asked first to cancel (a user name); the record keeps it if it ends cancelled.
    cancel_by: str | None = None
    #: Set by the runner's first step; before that, cancelling the asyncio task would
    #: throw into a coroutine that never ran and skip its cleanup.
    started: bool = False
    resources: frozenset[str] = frozenset()
    #: ``time.monotonic()`` of the first cancel asked for, and of the terminal state
    #: (cancel-to-stop latency, ``interlock.metrics``).
    cancel_asked_at: float | None = None
    ended_at: float | None = None
    #: With Redis: the task's place in the shared queue and why no worker took it yet
    #: (``interlock.cluster``; refreshed when asked).
    queue_place: int | None = None
    queued_reason: str | None = None

    def __post_init__(self) -> None:
        self.last_seq = self.record.last_seq
        self.published_seq = max(self.published_seq, self.last_seq)
        self.cancel_event = asyncio.Event()
        #: The same signal for worker threads (hardware polling loops).
        self.cancel_flag = threading.Event()
        self.finished = asyncio.Event()

    @property
    def id(self) -> str:
        return self.record.task_id

    @property
    def status(self) -> TaskStatus:
        return TaskStatus(self.record.status)

    # ------------------------------------------------------------------ history & emit

    def emit(self, message: p.SessionMessage) -> int:
        """Give ``message`` the next seq, save it, and hand it on for write + broadcast.

        A message that cannot be serialized raises here and consumes no seq."""
        seq = self.last_seq + 1
        message.seq = seq
        message.ts = utcnow().isoformat()
        try:
            data = WireText(message.model_dump_json(by_alias=True))
        except Exception:
            message.seq = 0
            raise
        self.last_seq = self.record.last_seq = seq
        self.history.append((seq, data))
        if len(self.history) > self.history_size:
            self._trim()
        self.journal.append(self, seq, message.type, data)  # type: ignore[attr-defined]
        if seq > self.log_max:
            # The store keeps the whole log up to log_max messages: drop the oldest beyond.
            self.journal.trim(self.id, seq - self.log_max + 1, self._pinned())
        return seq

    def published(self, seq: int) -> None:
        """Messages up to ``seq`` are committed: tabs may see them and people answer them."""
        self.published_seq = seq

    def _pinned(self) -> int | None:
        return self.pending.seq if self.pending is not None else None

    def _trim(self) -> None:
        """Bound the replay window (memory only: the store keeps the whole log)."""
        keep = self._pinned()
        while len(self.history) > self.history_size:
            index = 1 if self.history[0][0] == keep else 0
            dropped, _ = self.history.pop(index)
            self.truncated_upto = max(self.truncated_upto, dropped)

    def load_history(self, messages: list[StoredMessage], open_seq: int | None = None) -> None:
        """Restore the replay window from the store (a session of an earlier run, or a
        finished one): ``messages`` are the newest ``history_size`` stored ones and, if
        older, the open request's (seq ``open_seq``). Trimmed as ``emit`` trims, so a
        reloaded session replays exactly what the live one did."""
        # WireText: each message's frame is then built once for every tab it is replayed to.
        self.history = sorted({m.seq: (m.seq, WireText(m.data)) for m in messages}.values())
        while len(self.history) > self.history_size:
            self.history.pop(1 if self.history[0][0] == open_seq else 0)
        # The highest seq that is gone: before the first kept message, or in a hole left
        # behind a pinned request that outlived the messages after it.
        expected = 1
        for seq, _ in self.history:
            if seq > expected:
                self.truncated_upto = seq - 1
            expected = seq + 1
        self.published_seq = self.last_seq

    def replay(self, since: int | None) -> tuple[list[str], bool]:
        """Published messages with ``seq > since`` and whether some of them were trimmed."""
        after = since or 0
        items = [d for s, d in self.history if after < s <= self.published_seq]
        truncated = after < self.truncated_upto
        return items, truncated

    def snapshot(self) -> TaskRecord:
        return replace(self.record, parameters=dict(self.record.parameters))

    # ---------------------------------------------------------------------- lifecycle

    def set_status(self, status: TaskStatus) -> None:
        self.record.status = transition(self.status, status)
        now = utcnow()
        if status is TaskStatus.RUNNING and self.record.started_at is None:
            self.record.started_at = now
            self.record.message = "Running"
        if status.is_terminal:
            self.record.completed_at = now
        self.emit(p.Status(status=status))

    def finish(self, status: TaskStatus, message: p.SessionMessage) -> None:
        """Move to a terminal status and emit the terminal message (always the last one)."""
        if status is TaskStatus.CANCELLED:
            self.record.cancelled_by = self.cancel_by
        self.set_status(status)
        self.emit(message)
        self.ended_at = time.monotonic()
        self.finished.set()

    def set_progress(
        self, percent: float, message: str | None, stage: str | None, details: dict[str, Any] | None
    ) -> None:
        self.record.progress = percent
        if stage is not None:
            self.record.stage = stage
        # The record's message follows the latest progress, so REST never shows a stale one.
        if message is not None or stage is not None:
            self.record.message = message if message is not None else stage
        self.emit(p.Progress(progress=percent, message=message, stage=stage, details=details))

    # ----------------------------------------------------------------------- requests

    def open_request(
        self, message: p.RequestConfirmation | p.RequestUserInput, form: Form | None
    ) -> PendingRequest:
        """Emit a request and wait-state the task. At most one request is open at a time."""
        if self.pending is not None:
            raise RuntimeError("a request is already open in this session")
        message.request_id = message.request_id or uuid.uuid4().hex
        message.respondents = self.record.respondents
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        kind = message.kind.value if isinstance(message, p.RequestConfirmation) else "input"
        record = RequestRecord(
            request_id=message.request_id,
            session_id=self.id,
            seq=0,
            kind=kind,
            prompt=message.prompt,
            payload={},
        )
        self.pending = PendingRequest(message, form, future, record)
        self.last_request_id = message.request_id
        self.set_status(TaskStatus.WAITING)
        record.seq = self.emit(message)
        record.payload = message.model_dump(mode="json", by_alias=True)
        self.journal.put_request(replace(record))
        return self.pending

    def show_open(self, open_requests: list[RequestRecord]) -> None:
        """A copy of a session another node runs (``interlock.cluster``) shows its open
        request as the runner does: to tabs, in ``GET /tasks/{id}``, to presence. Nobody
        answers it here: answers go to the runner."""
        if not open_requests:
            return
        req = open_requests[-1]
        kind = req.payload.get("type")
        model = (
            p.RequestUserInput if kind == p.type_of(p.RequestUserInput) else p.RequestConfirmation
        )
        message = model.model_validate(req.payload)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending = PendingRequest(message, None, future, req)
        self.last_request_id = req.request_id

    def cancel_open(self, open_requests: list[RequestRecord]) -> None:
        """Close requests left open by a run that is gone (a crash, a lost worker): each
        stored and announced as ``cancelled``, before the session is ended."""
        for req in open_requests:
            self.resolved[req.request_id] = ResolveReason.CANCELLED
            self.journal.put_request(
                replace(req, status=ResolveReason.CANCELLED.value, resolved_at=utcnow())
            )
            self.emit(p.RequestResolved(request_id=req.request_id, reason=ResolveReason.CANCELLED))

    def visible_request(self) -> PendingRequest | None:
        """The open request once it is committed; before that nobody may see or answer it."""
        req = self.pending
        if req is None or req.seq > self.published_seq:
            return None
        return req

    def pending_message(self) -> dict[str, Any] | None:
        """The open request as sent on the wire (once committed), or None."""
        req = self.visible_request()
        return req.record.payload if req is not None else None

    def take_answer(
        self,
        request_id: str | None,
        answerer: p.Answerer,
        *,
        value: bool | None = None,
        values: dict[str, Any] | None = None,
    ) -> Answer:
        """Check a person's answer against the open request and return it, not yet applied.

        Raises AnswerRejected with the wire code when it cannot be taken; a validation error
        leaves the request open. The caller stores the answer, then calls ``apply``.
        """
        respondents = self.record.respondents
        if not may_answer(respondents, answerer.user, answerer.role):
            raise AnswerRejected("forbidden", refusal(respondents or []))
        if self.cancel_reason is not None:
            raise AnswerRejected("task_not_active", "the task is being cancelled or has ended")
        req = self.visible_request()
        if req is None or (request_id is not None and request_id != req.request_id):
            raise self._rejection(request_id)
        if isinstance(req.message, p.RequestConfirmation):
            if request_id is None and req.message.kind is RequestKind.HAZARD:
                raise AnswerRejected(
                    "validation_error",
                    "a hazard prompt is answered only with its request_id",
                    [{"field": "request_id", "message": "required to answer a hazard prompt"}],
                )
            if value is None or values is not None:
                raise AnswerRejected(
                    "validation_error",
                    "this request is a confirmation: send a boolean value",
                    [{"field": "value", "message": "a boolean is required"}],
                )
            return Answer(req, answerer, value, None)
        if values is None:
            raise AnswerRejected(
                "validation_error",
                "this request is a form: send values",
                [{"field": "values", "message": "an object of field values is required"}],
            )
        assert req.form is not None
        try:
            clean = req.form.validate(values)
        except ValidationFailed as exc:
            raise AnswerRejected("validation_error", "invalid input", exc.errors) from None
        return Answer(req, answerer, None, clean)

    def apply(self, answer: Answer) -> bool:
        """Resolve the request with a stored answer; False if it closed in the meantime."""
        if self.pending is not answer.request:
            return False
        self.resolve(
            ResolveReason.ANSWERED, answer.answerer, value=answer.value, values=answer.values
        )
        return True

    def _rejection(self, request_id: str | None) -> AnswerRejected:
        target = request_id if request_id is not None else self.last_request_id
        reason = self.resolved.get(target) if target is not None else None
        if reason is ResolveReason.ANSWERED:
            return AnswerRejected("already_answered", f"request {target} was already answered")
        if self.status.is_terminal:
            return AnswerRejected("task_not_active", "the task has ended")
        if request_id is None:
            return AnswerRejected("no_pending_request", "no request is open in this session")
        return AnswerRejected("stale_request", f"request {request_id} is not the open request")

    def resolve(
        self,
        reason: ResolveReason,
        answerer: p.Answerer | None = None,
        *,
        value: bool | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Close the open request, tell every tab, store who answered, wake the task."""
        req = self.pending
        if req is None:
            return
        self.pending = None
        self.resolved[req.request_id] = reason
        if values is not None:
            self.values.update(values)
        answer = values if values is not None else value
        self.journal.put_request(req.closed(reason, answer, answerer))
        if not self.status.is_terminal and reason is not ResolveReason.CANCELLED:
            self.set_status(TaskStatus.RUNNING)
        self.emit(
            p.RequestResolved(
                request_id=req.request_id,
                answered_by=answerer,
                value=value,
                values=values,
                reason=reason,
            )
        )
        if not req.future.done():
            req.future.set_result(answer)

    # ------------------------------------------------------------------------- cancel

    def request_cancel(self, reason: str, by: str | None = None) -> None:
        """Signal cancellation: wakes every wait at once and raises inside the task. ``by``
        is the user who asked (None: the server, or nobody is identified); the first ask's
        reason and user are kept."""
        if self.cancel_reason is None:
            self.cancel_reason = reason
            self.cancel_by = by
            self.cancel_asked_at = time.monotonic()
        self.cancel_event.set()
        self.cancel_flag.set()
        if self.started and self.runner is not None and not self.runner.done():
            self.runner.cancel()


#: The POC's name for a session's task state; the same class.
SessionTask = Session
