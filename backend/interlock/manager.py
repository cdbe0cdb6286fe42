"""SessionManager: creates sessions, admits them to run (slots, resources, queue), finds
them again (in memory or in the store), recovers after a crash, and shuts down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

from . import protocol as p
from .bus import EventBus
from .exceptions import CapacityExceeded, TaskNotFound
from .journal import Journal
from .runtime import execute
from .sessions import Session, utcnow
from .settings import Settings
from .states import OPERATOR_REASON, RESTART_REASON, SHUTDOWN_REASON, ResolveReason, TaskStatus
from .store import RequestRecord, Store, TaskRecord
from .tasks.registry import TaskRegistry

log = logging.getLogger("interlock.sessions")

#: Finished sessions kept in memory for fast replay; older ones are re-read from the store.
FINISHED_CACHE = 256


def resources_overlap(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two tasks needing ``a`` and ``b`` collide: they share a resource, or one needs
    a resource the other needs part of (``axis`` covers ``axis:x``, so a task holding every
    axis conflicts with one holding x; ``axis:x`` and ``axis:y`` do not conflict)."""
    return bool(a & _with_parents(b)) or bool(b & _with_parents(a))


def _with_parents(resources: frozenset[str]) -> set[str]:
    out = set(resources)
    for resource in resources:
        parts = resource.split(":")
        out.update(":".join(parts[:i]) for i in range(1, len(parts)))
    return out


class SessionManager:
    """Owns every session of this server process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        bus: EventBus,
        registry: TaskRegistry,
        *,
        services: dict[str, Any] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.bus = bus
        self.registry = registry
        self.services = services or {}
        self.journal = Journal(store, bus)
        self.sessions: dict[str, Session] = {}
        self.active: dict[str, Session] = {}
        self.queue: list[Session] = []
        self._params: dict[str, Any] = {}
        self._finished_order: list[str] = []
        self._load_lock = asyncio.Lock()
        self._prune_task: asyncio.Task[None] | None = None
        #: Called with a session when its task ends (hardware safety hooks attach here).
        self.exit_hooks: list[Callable[[Session], Any]] = []
        #: Called with a session when its last connection on this instance closes.
        self.disconnect_hooks: list[Callable[[Session], Any]] = []

    # -------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self.journal.start()
        await self.recover()
        await self.prune()
        self._prune_task = asyncio.create_task(self._prune_loop(), name="interlock-prune")

    async def stop(self) -> None:
        """Cancel every live task (they end ``interrupted``), write everything, return."""
        if self._prune_task is not None:
            self._prune_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
        for session in list(self.queue):
            self._drop_queued(session, TaskStatus.INTERRUPTED)
        runners = [s.runner for s in self.active.values() if s.runner is not None]
        for session in list(self.active.values()):
            session.request_cancel(SHUTDOWN_REASON)
        if runners:
            await asyncio.gather(*runners, return_exceptions=True)
        await self.journal.stop()

    async def recover(self) -> None:
        """Tasks a crash left unfinished become ``interrupted``; their seq continues."""
        for record in await self.store.unfinished_tasks():
            session, open_requests = await self._load(record)
            for req in open_requests:
                session.resolved[req.request_id] = ResolveReason.CANCELLED
                self.journal.put_request(
                    replace(req, status=ResolveReason.CANCELLED.value, resolved_at=utcnow())
                )
                session.emit(
                    p.RequestResolved(request_id=req.request_id, reason=ResolveReason.CANCELLED)
                )
            session.finish(TaskStatus.INTERRUPTED, p.TaskInterrupted(reason=RESTART_REASON))
        await self.journal.sync()

    async def prune(self) -> int:
        cutoff = utcnow() - timedelta(days=self.settings.retention_days)
        count = await self.store.prune(cutoff)
        if count:
            log.info("pruned %d finished tasks older than %s", count, cutoff.isoformat())
        return count

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(3600)
            await self.prune()

    # --------------------------------------------------------------------- creating

    async def create(
        self, task_type_name: str, parameters: dict[str, Any] | None, *, queue: bool = False
    ) -> Session:
        """Validate, then start now, queue, or raise CapacityExceeded (in that order)."""
        task_type = self.registry.get(task_type_name)
        params = task_type.validate(parameters)
        if task_type.check is not None:
            task_type.check(params, self.services)
        resources = task_type.resources(params)
        holder = self._blocker(resources)
        if holder is not None and not queue:
            raise CapacityExceeded(holder.id)
        if holder is None and queue:
            # First come, first served: do not overtake a queued task that needs the same.
            holder = next(
                (s for s in self.queue if resources_overlap(s.resources, resources)), None
            )
        record = TaskRecord(
            task_id=str(uuid.uuid4()),
            task_type=task_type.name,
            parameters=params.model_dump(mode="json"),
            status=TaskStatus.PENDING,
            created_at=utcnow(),
            message="Task submitted successfully",
        )
        session = Session(record, self.journal, self.settings.history_size, resources=resources)
        self.sessions[session.id] = session
        self._params[session.id] = params
        self.journal.touch(session)
        if holder is None:
            self._launch(session)
        else:
            self.queue.append(session)
            record.message = f"Queued at position {len(self.queue)}"
            session.set_status(TaskStatus.QUEUED)
        return session

    def _blocker(self, resources: frozenset[str]) -> Session | None:
        """The task that stops a task needing ``resources`` from starting now, if any."""
        for other in self.active.values():
            if resources_overlap(other.resources, resources):
                return other
        if len(self.active) >= self.settings.max_concurrent:
            return next(iter(self.active.values()))
        return None

    def queue_position(self, session: Session) -> int | None:
        with contextlib.suppress(ValueError):
            return self.queue.index(session) + 1
        return None

    def _launch(self, session: Session) -> None:
        task_type = self.registry.get(session.record.task_type)
        params = self._params.pop(session.id)
        self.active[session.id] = session
        session.runner = asyncio.create_task(
            execute(
                session,
                task_type,
                params,
                default_timeout=self.settings.task_timeout,
                services=self.services,
                on_exit=self._on_exit,
            ),
            name=f"interlock-task-{session.id}",
        )

    def _on_exit(self, session: Session) -> None:
        self.active.pop(session.id, None)
        for hook in self.exit_hooks:
            try:
                hook(session)
            except Exception:
                log.exception("exit hook failed for %s", session.id)
        self._remember_finished(session)
        self._start_queued()

    def _start_queued(self) -> None:
        """Start queued tasks in order. A task may pass one that waits, unless it needs
        something that one needs too: then it waits its turn (no starving the big task)."""
        reserved: frozenset[str] = frozenset()
        for session in list(self.queue):
            if self._blocker(session.resources) is None and not resources_overlap(
                reserved, session.resources
            ):
                self.queue.remove(session)
                self._launch(session)
            else:
                reserved |= session.resources
        for index, session in enumerate(self.queue, start=1):
            session.record.message = f"Queued at position {index}"
            self.journal.touch(session)

    def _drop_queued(self, session: Session, status: TaskStatus, reason: str = "") -> None:
        self.queue.remove(session)
        self._params.pop(session.id, None)
        if status is TaskStatus.INTERRUPTED:
            session.finish(status, p.TaskInterrupted(reason=SHUTDOWN_REASON))
        else:
            session.finish(status, p.TaskCancelled(reason=reason or "cancelled"))
        self._remember_finished(session)
        self._start_queued()

    def _remember_finished(self, session: Session) -> None:
        self._finished_order.append(session.id)
        while len(self._finished_order) > FINISHED_CACHE:
            old = self._finished_order.pop(0)
            if old in self.sessions and self.sessions[old].status.is_terminal:
                del self.sessions[old]

    # ---------------------------------------------------------------------- finding

    async def get(self, session_id: str) -> Session:
        """The session, loading it from the store if this process does not hold it."""
        session = self.sessions.get(session_id)
        if session is not None:
            return session
        async with self._load_lock:
            session = self.sessions.get(session_id)
            if session is not None:
                return session
            await self.journal.sync()
            record = await self.store.get_task(session_id)
            if record is None:
                raise TaskNotFound(session_id)
            session, _ = await self._load(record)
            self._remember_finished(session)
            return session

    async def _load(self, record: TaskRecord) -> tuple[Session, list[RequestRecord]]:
        """A session of an earlier run or an evicted one, and its requests still open."""
        session = Session(record, self.journal, self.settings.history_size)
        session.load_history(await self.store.load_messages(record.task_id))
        for name, content_type in await self.store.list_artifacts(record.task_id):
            session.artifacts[name] = content_type
        open_requests = []
        for req in await self.store.get_requests(record.task_id):
            if req.status == "open":
                open_requests.append(req)
            else:
                session.resolved[req.request_id] = ResolveReason(req.status)
            session.last_request_id = req.request_id
        self.sessions[session.id] = session
        return session, open_requests

    def current(self) -> Session | None:
        """The oldest active (running or waiting) task."""
        return next(iter(self.active.values()), None)

    async def list_records(self, status: str | None, limit: int) -> list[TaskRecord]:
        await self.journal.sync()
        return await self.store.list_tasks(status=status, limit=limit)

    # ----------------------------------------------------------------------- acting

    def detach(self, session: Session, subscriber: Any) -> None:
        """A connection closed; run the disconnect hooks when it was the session's last."""
        self.bus.unsubscribe(session.id, subscriber)
        if self.bus.subscriber_count(session.id) == 0 and not session.status.is_terminal:
            for hook in self.disconnect_hooks:
                try:
                    hook(session)
                except Exception:
                    log.exception("disconnect hook failed for %s", session.id)

    def cancel(self, session_id: str, reason: str = OPERATOR_REASON) -> bool:
        """Cancel a queued or live task. False when unknown or already finished."""
        session = self.sessions.get(session_id)
        if session is None or session.status.is_terminal or session.cancel_reason is not None:
            return False
        if session in self.queue:
            self._drop_queued(session, TaskStatus.CANCELLED, reason)
            return True
        if session.runner is None:
            return False
        session.request_cancel(reason)
        return True

    async def cancel_and_wait(
        self, session_id: str, reason: str = OPERATOR_REASON, timeout: float = 10.0
    ) -> bool:
        """Cancel, then wait (bounded) until the task reached its terminal state, so a
        client that asks right after the reply sees ``cancelled`` and stopped hardware."""
        if not self.cancel(session_id, reason):
            return False
        session = self.sessions.get(session_id)
        if session is not None:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await session.finished.wait()
        return True

    async def answer(
        self,
        session_id: str,
        request_id: str | None,
        answerer: p.Answerer,
        *,
        value: bool | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        session = await self.get(session_id)
        session.answer(request_id, answerer, value=value, values=values)
