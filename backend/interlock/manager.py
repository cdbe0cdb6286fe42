"""SessionManager: creates sessions, admits them to run (slots, resources, queue), finds
them again (in memory or in the store), takes answers and cancels, recovers after a crash,
and shuts down cleanly. Routers talk to this class only."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from . import admission
from . import protocol as p
from .auth import LOCAL, Identity
from .bus import EventBus, Subscriber
from .exceptions import (
    AnswerRejected,
    CapacityExceeded,
    Forbidden,
    QueueFull,
    StoreError,
    StoreUnavailable,
    TaskNotFound,
)
from .frames import frame_of
from .journal import Journal
from .lifecycle import LIFECYCLE_TYPES, Lifecycle
from .logs import REQUEST_ID
from .runtime import execute
from .sessions import Session, utcnow
from .settings import Settings
from .states import (
    OPERATOR_REASON,
    RESTART_REASON,
    SHUTDOWN_REASON,
    STORE_FAILED_REASON,
    ResolveReason,
    TaskStatus,
)
from .store import Artifact, MessagePage, RequestRecord, Store, TaskFilter, TaskRecord
from .tasks.registry import TaskRegistry
from .traffic import Traffic
from .uploads import claim_inputs

if TYPE_CHECKING:
    from .cluster.node import ClusterNode

log = logging.getLogger("interlock.sessions")

#: The statuses of a task no worker took yet (with Redis).
_NOT_TAKEN = frozenset({TaskStatus.PENDING.value, TaskStatus.QUEUED.value})

#: Seconds between two retention prunes.
PRUNE_INTERVAL = 3600.0


class CancelOutcome(enum.Enum):
    """What ``cancel_and_wait`` achieved."""

    NOT_ACTIVE = "not_active"  # unknown, already finished, or already being cancelled
    ENDED = "ended"
    STILL_RUNNING = "still_running"  # asked, but not ended within the cancel timeout


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
        self.journal = Journal(store, self._deliver, self._session_lost)
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
        #: Called with a session when its task starts running in this process.
        self.start_hooks: list[Callable[[Session], Any]] = []
        #: Committed messages that mark a task's life, for its watchers (webhooks, ...).
        self.lifecycle = Lifecycle()
        #: Messages and bytes handed to tabs (``interlock.metrics`` reads it).
        self.traffic = Traffic()
        #: With Redis: this process as a node of the cluster (``interlock.cluster``): tasks
        #: come from the shared queue, other nodes' sessions are mirrored, answers and
        #: cancels go to the node running the task.
        self.cluster: ClusterNode | None = None

    # -------------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        self.journal.start()
        if self.cluster is None:
            await self.recover()  # with Redis, a lost worker's tasks are reaped instead
        else:
            await self.cluster.start()
        await self._prune_quietly()
        self._prune_task = asyncio.create_task(self._prune_loop(), name="interlock-prune")

    def cancel_all(self, reason: str = SHUTDOWN_REASON) -> None:
        """Signal every queued and live task to stop now (the first step of a shutdown)."""
        for session in [*self.queue, *self.active.values()]:
            session.request_cancel(reason)

    async def stop(self) -> None:
        """Cancel every live task (they end ``interrupted``), write everything, return."""
        if self._prune_task is not None:
            self._prune_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._prune_task
        if self.cluster is not None:
            await self.cluster.stop()  # takes no more tasks
        for session in list(self.queue):
            self._drop_queued(session, TaskStatus.INTERRUPTED)
        runners = [s.runner for s in self.active.values() if s.runner is not None]
        self.cancel_all(SHUTDOWN_REASON)
        if runners:
            await asyncio.gather(*runners, return_exceptions=True)
        await self.journal.stop()
        if self.cluster is not None:
            await self.cluster.leave()

    async def abort(self) -> None:
        """After a ``stop`` that ran out of time: stop writing; what is unwritten is lost."""
        if self.journal.unwritten:
            log.error("%d messages were not written before the shutdown", self.journal.unwritten)
        await self.journal.abort()

    async def recover(self) -> None:
        """Tasks a crash left unfinished become ``interrupted``; their seq continues."""
        for record in await self.store.unfinished_tasks():
            session, open_requests = await self._load(record)
            session.cancel_open(open_requests)
            session.finish(TaskStatus.INTERRUPTED, p.TaskInterrupted(reason=RESTART_REASON))
        await self.journal.sync()

    async def prune(self) -> int:
        cutoff = utcnow() - timedelta(days=self.settings.retention_days)
        count = await self.store.prune(cutoff)
        if count:
            log.info("pruned %d finished tasks older than %s", count, cutoff.isoformat())
        return count

    async def _prune_quietly(self) -> None:
        try:
            await self.prune()
        except StoreError as exc:
            log.warning("pruning old tasks failed (will retry later): %s", exc)
        except Exception:
            log.exception("pruning old tasks failed (will retry later)")

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(PRUNE_INTERVAL)
            await self._prune_quietly()

    def health(self) -> str | None:
        """Why the server is degraded (the store refuses writes, or the bus lost its
        connection), or None when healthy."""
        return self.journal.degraded or self.bus.health()

    # --------------------------------------------------------------------- creating

    async def create(
        self,
        task_type_name: str,
        parameters: dict[str, Any] | None,
        *,
        queue: bool = False,
        caller: Identity = LOCAL,
        respondents: list[str] | None = None,
    ) -> Session:
        """Validate, then start now, queue, or raise CapacityExceeded (in that order).

        ``caller`` starts it (``Forbidden`` below the task type's role) and is recorded as
        ``created_by``; ``respondents`` (checked by the caller, ``interlock.auth.respondents``)
        are the only ones who may answer its prompts, besides admins. The task is stored
        before this returns (StoreUnavailable otherwise): a task that was accepted exists
        after a crash."""
        task_type = self.registry.get(task_type_name)
        if not caller.allows(task_type.role):
            raise Forbidden(task_type.role)
        params = task_type.validate(parameters)
        # Input files exist and fit, and are marked used (so no sweep removes them now).
        await claim_inputs(params, self.services)
        resources = task_type.resources(params)
        if task_type.check is not None and self.cluster is not None:
            # Where the controller is: a worker that may run it (which checks again).
            await self.cluster.check(task_type.name, params, resources)
        elif task_type.check is not None:
            # Checks may ask the controller (a blocking call): never on the event loop.
            await asyncio.to_thread(task_type.check, params, self.services)
        if self.cluster is not None:
            return await self._create_shared(
                task_type.name, params, resources, queue, caller, respondents
            )
        holder = admission.blocker(resources, self.active.values(), self.settings.max_concurrent)
        if holder is not None and not queue:
            raise CapacityExceeded(holder.id)
        if holder is None and queue:
            # First come, first served: do not overtake a queued task that needs the same.
            holder = admission.queued_ahead(resources, self.queue)
        if holder is not None and len(self.queue) >= self.settings.max_queued:
            raise QueueFull(self.settings.max_queued)
        record = TaskRecord(
            task_id=str(uuid.uuid4()),
            task_type=task_type.name,
            parameters=params.model_dump(mode="json"),
            status=TaskStatus.PENDING,
            created_at=utcnow(),
            message="Task submitted successfully",
            respondents=respondents,
            created_by=caller.user,
        )
        session = self._session(record, resources)
        # Hold the slot (or the place in the queue) while the record is committed, so tasks
        # submitted meanwhile are admitted against it.
        if holder is None:
            self.active[session.id] = session
        else:
            self.queue.append(session)
        try:
            await self.journal.write_through(tasks=[session.snapshot()])
        except BaseException:
            self.active.pop(session.id, None)
            if session in self.queue:
                self.queue.remove(session)
            self._start_queued()
            raise
        self.sessions[session.id] = session
        self._params[session.id] = params
        if holder is None:
            self._launch(session)
        else:
            record.message = f"Queued at position {self.queue.index(session) + 1}"
            session.set_status(TaskStatus.QUEUED)
        return session

    async def _create_shared(
        self,
        task_type: str,
        params: Any,
        resources: frozenset[str],
        queue: bool,
        caller: Identity,
        respondents: list[str] | None,
    ) -> Session:
        """``create`` with Redis: in the shared line, stored, then let workers take it."""
        assert self.cluster is not None
        record = TaskRecord(
            task_id=str(uuid.uuid4()),
            task_type=task_type,
            parameters=params.model_dump(mode="json"),
            status=TaskStatus.PENDING,
            created_at=utcnow(),
            message="Task submitted successfully",
            respondents=respondents,
            created_by=caller.user,
        )
        session = self._session(record, resources)
        # Its input files go where its worker finds them, before anyone may take it.
        await self.cluster.share_inputs(record.task_id, params)
        why = await self.cluster.admit(session, resources, queue=queue)
        try:
            await self.journal.write_through(tasks=[session.snapshot()])
        except BaseException:
            await self.cluster.withdraw(session.id)
            raise
        if why is not None:
            record.message = f"Queued: {why}"
            session.set_status(TaskStatus.QUEUED)
        # Its first messages are written before any worker may take it and go on from them.
        await self.journal.sync()
        try:
            await self.cluster.ready(session.id)
        except Exception as exc:
            await self.cluster.withdraw(session.id)
            session.record.error = f"the cluster state in Redis is unreachable: {exc}"
            session.finish(TaskStatus.FAILED, p.TaskFailed(error=session.record.error))
            raise StoreUnavailable(session.record.error) from exc
        if why is not None:
            await self.cluster.waiting(session)
        return session

    def _session(self, record: TaskRecord, resources: frozenset[str] = frozenset()) -> Session:
        return Session(
            record,
            self.journal,
            self.settings.history_size,
            log_max=self.settings.log_max_messages,
            resources=resources,
        )

    def queue_position(self, session: Session) -> int | None:
        if self.cluster is not None:
            return session.queue_place
        # Not list.index: its ValueError for a task not queued (most of them) would format
        # the session's repr, ~0.2 ms, once per task in every GET /tasks.
        return next((i for i, s in enumerate(self.queue, start=1) if s is session), None)

    def _launch(self, session: Session) -> None:
        task_type = self.registry.get(session.record.task_type)
        params = self._params.pop(session.id)
        self.active[session.id] = session
        for hook in self.start_hooks:
            try:
                hook(session)
            except Exception:
                log.exception("start hook failed for %s", session.id)
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
        if self.cluster is not None:
            self.cluster.released(session)
            return
        self._start_queued()

    def _start_queued(self) -> None:
        """Start queued tasks in order. A task may pass one that waits, unless it needs
        something that one needs too: then it waits its turn (no starving the big task)."""
        stored = [s for s in self.queue if s.id in self.sessions]  # others: create() stores them
        for session in admission.to_start(
            stored, self.active.values(), self.settings.max_concurrent
        ):
            self.queue.remove(session)
            self._launch(session)
        for index, session in enumerate(self.queue, start=1):
            if session.id in self.sessions:
                session.record.message = f"Queued at position {index}"
                self.journal.touch(session)

    def _drop_queued(self, session: Session, status: TaskStatus, reason: str = "") -> None:
        self.queue.remove(session)
        self._params.pop(session.id, None)
        if status is TaskStatus.INTERRUPTED:
            session.finish(status, p.TaskInterrupted(reason=SHUTDOWN_REASON))
        elif status is TaskStatus.FAILED:
            session.finish(status, p.TaskFailed(error=session.record.error or reason))
        else:
            session.finish(status, p.TaskCancelled(reason=reason or "cancelled"))
        self._remember_finished(session)
        self._start_queued()

    def _remember_finished(self, session: Session) -> None:
        self._finished_order.append(session.id)
        self._evict()

    def _evict(self) -> None:
        """Forget the oldest finished sessions nobody watches, beyond ``finished_cache``."""
        excess = len(self._finished_order) - self.settings.finished_cache
        if excess <= 0:
            return
        keep: list[str] = []
        for old in self._finished_order:
            session = self.sessions.get(old)
            if excess > 0 and (session is None or self.bus.subscriber_count(old) == 0):
                excess -= 1
                self.sessions.pop(old, None)
            else:
                keep.append(old)
        self._finished_order = keep

    # ---------------------------------------------------------------------- finding

    @contextlib.asynccontextmanager
    async def _store_deadline(self) -> AsyncIterator[None]:
        """Bound a read that needs the store: StoreUnavailable instead of hanging."""
        try:
            async with asyncio.timeout(self.settings.store_timeout):
                yield
        except TimeoutError:
            reason = self.journal.degraded or "no answer"
            raise StoreUnavailable(
                f"the store did not answer within {self.settings.store_timeout:g} s ({reason})"
            ) from None

    async def get(self, session_id: str) -> Session:
        """The session, loading it from the store if this process does not hold it."""
        session = self.sessions.get(session_id)
        if session is not None:
            return session
        async with self._store_deadline(), self._load_lock:
            session = self.sessions.get(session_id)
            if session is not None:
                return session
            record = await self.store.get_task(session_id)
            if record is None:
                raise TaskNotFound(session_id)
            if self.cluster is not None and not TaskStatus(record.status).is_terminal:
                # Another node runs it: this copy is current now only (``watch`` keeps one).
                return await self.cluster.load_copy(record)
            session, _ = await self._load(record)
            self._remember_finished(session)
            return session

    async def watch(self, session_id: str) -> Session:
        """The session a tab watches: as ``get``, but with Redis one another node runs is
        mirrored here, kept current by its messages (``ClusterNode.follow``)."""
        if self.cluster is None:
            return await self.get(session_id)
        async with self._store_deadline():
            return await self.cluster.follow(session_id)

    async def waiting_of(self, records: list[TaskRecord]) -> list[tuple[int | None, str | None]]:
        """With Redis: each task's place in the shared line and why it waits (for the ones
        no worker took yet; ``(None, None)`` for the others, and without Redis)."""
        none: tuple[int | None, str | None] = (None, None)
        waiting = [r.task_id for r in records if r.status in _NOT_TAKEN]
        if self.cluster is None or not waiting:
            return [none] * len(records)
        async with self._store_deadline():
            found = await self.cluster.waiting_many(waiting)
        return [found.get(r.task_id, none) for r in records]

    async def refresh_waiting(self, session: Session) -> None:
        """With Redis: note where a task waits in the shared line, and why."""
        if self.cluster is not None:
            async with self._store_deadline():
                await self.cluster.waiting(session)

    async def _load(
        self, record: TaskRecord, *, keep: bool = True
    ) -> tuple[Session, list[RequestRecord]]:
        """A session of an earlier run or an evicted one, and its requests still open."""
        session = self._session(record)
        for name, content_type in await self.store.list_artifacts(record.task_id):
            session.artifacts[name] = content_type
        open_requests = []
        for req in await self.store.get_requests(record.task_id):
            if req.status == "open":
                open_requests.append(req)
            else:
                session.resolved[req.request_id] = ResolveReason(req.status)
            session.last_request_id = req.request_id
        # The replay window only: the newest messages and the open request's, not the log.
        size = self.settings.history_size
        window = await self.store.read_messages(record.task_id, limit=size, newest=True)
        messages = window.messages
        open_seq = open_requests[-1].seq if open_requests else None
        if open_seq is not None and all(m.seq != open_seq for m in messages):
            pinned = await self.store.read_messages(
                record.task_id, after_seq=open_seq - 1, before_seq=open_seq + 1, limit=1
            )
            messages = pinned.messages + messages
        session.load_history(messages, open_seq)
        if messages and messages[-1].seq > session.last_seq:
            session.last_seq = session.record.last_seq = messages[-1].seq
            session.published_seq = session.last_seq
        if keep:
            self.sessions[session.id] = session
        return session, open_requests

    def current(self) -> Session | None:
        """The oldest active (running or waiting) task."""
        return next((s for s in self.active.values() if s.id in self.sessions), None)

    async def current_anywhere(self) -> Session | None:
        """``current``; with Redis, the oldest active task of any node."""
        session = self.current()
        if session is not None or self.cluster is None:
            return session
        records = [
            r
            for status in (TaskStatus.RUNNING, TaskStatus.WAITING)
            for r in await self.list_records(status.value, 100)
        ]
        if not records:
            return None
        return await self.get(min(records, key=lambda r: r.created_at).task_id)

    async def list_records(
        self,
        status: str | None,
        limit: int,
        created_by: str | None = None,
        *,
        offset: int = 0,
        where: TaskFilter | None = None,
    ) -> list[TaskRecord]:
        async with self._store_deadline():
            await self.journal.sync()
            return await self.store.list_tasks(
                status=status, created_by=created_by, limit=limit, offset=offset, where=where
            )

    async def log_page(
        self, session_id: str, *, after_seq: int, before_seq: int | None, limit: int
    ) -> MessagePage:
        """Part of the session's whole stored log (what is emitted so far is written first):
        the oldest ``limit`` messages after ``after_seq``, or with ``before_seq`` the newest
        ``limit`` below it (paging backwards). ``TaskNotFound`` for an unknown session."""
        async with self._store_deadline():
            if session_id not in self.sessions and await self.store.get_task(session_id) is None:
                raise TaskNotFound(session_id)
            await self.journal.sync()
            return await self.store.read_messages(
                session_id,
                after_seq=after_seq,
                before_seq=before_seq,
                limit=limit,
                newest=before_seq is not None,
            )

    async def requests(self, session_id: str) -> list[RequestRecord]:
        """Every request of the session with its answer: the audit trail."""
        await self.get(session_id)
        async with self._store_deadline():
            await self.journal.sync()
            return await self.store.get_requests(session_id)

    async def artifact(self, session_id: str, name: str) -> Artifact | None:
        async with self._store_deadline():
            await self.journal.sync()
            return await self.store.get_artifact(session_id, name)

    # ---------------------------------------------------------------- connections

    def subscribe(self, session: Session, subscriber: Subscriber) -> None:
        self.bus.subscribe(session.id, subscriber)
        if self.cluster is not None:
            self.cluster.tabs_changed(session.id, self.bus.subscriber_count(session.id))

    def unsubscribe(self, session: Session, subscriber: Subscriber) -> None:
        """Stop delivering to ``subscriber`` (it is being closed; ``detach`` follows)."""
        self.bus.unsubscribe(session.id, subscriber)

    def watchers(self, session_id: str) -> int:
        """Connections watching the session on this instance."""
        return self.bus.subscriber_count(session_id)

    async def watchers_anywhere(self, session_id: str) -> int:
        """Connections watching the session on any live instance (with Redis)."""
        if self.cluster is None:
            return self.watchers(session_id)
        return await self.cluster.tabs(session_id)

    def detach(self, session: Session, subscriber: Subscriber) -> None:
        """A connection closed; run the disconnect hooks when it was the session's last."""
        self.bus.unsubscribe(session.id, subscriber)
        if self.cluster is not None:
            self.cluster.tabs_changed(session.id, self.bus.subscriber_count(session.id))
        if self.bus.subscriber_count(session.id) > 0:
            return
        if self.cluster is not None and session.id in self.cluster.mirrors:
            self.cluster.unfollow(session)  # its runner elsewhere watches its own hardware
            return
        if session.status.is_terminal:
            self._evict()
            return
        for hook in self.disconnect_hooks:
            try:
                hook(session)
            except Exception:
                log.exception("disconnect hook failed for %s", session.id)

    def _deliver(self, session: Session, seq: int, type_: str, data: str) -> None:
        session.published(seq)
        bus = self.bus
        bus.publish(session.id, data)
        # Counted once per message (not per tab): the frame is made once and shared anyway.
        tabs = bus.subscriber_count(session.id)
        if tabs:  # inline, not Traffic's method: this runs for every message
            traffic = self.traffic
            traffic.messages += tabs
            traffic.bytes += tabs * len(frame_of(data))
        if type_ in LIFECYCLE_TYPES:
            self.lifecycle.observe(session, type_, data)

    def deliver_mirrored(self, session: Session, data: str) -> None:
        """A message of a session another node runs reached its mirror here: to the tabs."""
        bus = self.bus
        bus.deliver_local(session.id, data)
        tabs = bus.subscriber_count(session.id)
        if tabs:
            self.traffic.messages += tabs
            self.traffic.bytes += tabs * len(frame_of(data))

    def tab_closers(self, session_id: str) -> list[Callable[[int, str], None]]:
        """How to close each of this instance's tabs of the session."""
        return [s.close for s in self.bus.subscribers(session_id) if hasattr(s, "close")]

    def _session_lost(self, session_id: str, error: StoreError) -> None:
        """The store can never take this session's writes: end its task ``failed``."""
        session = self.sessions.get(session_id)
        if session is None or session.status.is_terminal:
            return
        session.record.error = f"store error: {error}"
        if session in self.queue:
            self._drop_queued(session, TaskStatus.FAILED, STORE_FAILED_REASON)
        else:
            session.request_cancel(STORE_FAILED_REASON)

    # ----------------------------------------------------------------------- acting

    def cancel(self, session_id: str, reason: str = OPERATOR_REASON, by: str | None = None) -> bool:
        """Cancel a queued or live task (``by``: the user who asks, kept as ``cancelled_by``
        when it ends cancelled). False when unknown, already finished or being cancelled."""
        session = self.sessions.get(session_id)
        if session is None or session.status.is_terminal or session.cancel_reason is not None:
            return False
        if session in self.queue:
            session.request_cancel(reason, by)  # it never ran: this only records who and why
            self._drop_queued(session, TaskStatus.CANCELLED, reason)
            return True
        if session.runner is None:
            return False
        session.request_cancel(reason, by)
        return True

    async def cancel_anywhere(
        self, session_id: str, reason: str = OPERATOR_REASON, by: str | None = None
    ) -> bool:
        """``cancel``, where the task is: with Redis, at the worker that runs it (or taken
        out of the shared line if none took it yet)."""
        if self.cluster is not None and session_id not in self.active:
            outcome = await self.cluster.cancel(session_id, reason, by, wait=False)
            if outcome is not None:
                return outcome is CancelOutcome.ENDED
        return self.cancel(session_id, reason, by)

    async def cancel_and_wait(
        self,
        session_id: str,
        reason: str = OPERATOR_REASON,
        by: str | None = None,
        *,
        routed: bool = False,
    ) -> CancelOutcome:
        """Cancel, then wait (up to the cancel timeout) until the task reached its terminal
        state, so a client that asks right after the reply sees it ended and stopped.
        With Redis the worker running the task does it (``routed``: this is that worker)."""
        if self.cluster is not None and not routed and session_id not in self.active:
            outcome = await self.cluster.cancel(session_id, reason, by, wait=True)
            if outcome is not None:
                return outcome
        if not self.cancel(session_id, reason, by):
            return CancelOutcome.NOT_ACTIVE
        session = self.sessions[session_id]
        try:
            async with asyncio.timeout(self.settings.cancel_timeout):
                await session.finished.wait()
        except TimeoutError:
            log.error(
                "task %s did not end within %g s of its cancel",
                session_id,
                self.settings.cancel_timeout,
            )
            return CancelOutcome.STILL_RUNNING
        return CancelOutcome.ENDED

    async def answer(
        self,
        session_id: str,
        request_id: str | None,
        answerer: p.Answerer,
        *,
        value: bool | None = None,
        values: dict[str, Any] | None = None,
        routed: bool = False,
    ) -> str:
        """Take a person's answer: check it, store it, and only then let the task act on it.
        With Redis the worker running the task takes it (``routed``: this is that worker).

        First valid answer wins; an answer that arrives while another is being stored waits
        for that one's fate. Returns the request id. Raises AnswerRejected (wire codes),
        TaskNotFound, or StoreError/StoreUnavailable (nothing was taken: the request stays
        open and the task does not act)."""
        if self.cluster is not None and not routed and session_id not in self.active:
            args = {
                "session_id": session_id,
                "request_id": request_id,
                "answerer": answerer.model_dump(mode="json"),
                "value": value,
                "values": values,
            }
            routed_to = await self.cluster.answer(session_id, args)
            if routed_to is not None:
                return routed_to
        session = await self.get(session_id)
        while (req := session.pending) is not None and req.answering is not None:
            if not await asyncio.shield(req.answering):
                raise StoreUnavailable("the store could not record the answer")
        taken = session.take_answer(request_id, answerer, value=value, values=values)
        REQUEST_ID.set(taken.request.request_id)  # the caller's lines name the request
        flight: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        taken.request.answering = flight
        applied = False
        first = False
        try:
            if self.cluster is not None:
                # First answer wins across the cluster: one SET NX on the request id.
                first = await self.cluster.first_answer(taken.request.request_id, session.id)
                if not first:
                    raise AnswerRejected(
                        "already_answered",
                        f"request {taken.request.request_id} was already answered",
                    )
            await self.journal.write_through(requests=[taken.record])
            applied = session.apply(taken)
        finally:
            if first and not applied and self.cluster is not None:
                await self.cluster.forget_answer(taken.request.request_id, session.id)
            taken.request.answering = None
            flight.set_result(applied)
        if not applied:
            raise AnswerRejected("task_not_active", "the task was cancelled meanwhile")
        return taken.request.request_id
