"""This process as one node of a cluster on Redis: it mirrors the sessions other nodes run,
routes answers and cancels to the worker that runs the task, and, as a worker, takes tasks
from the shared queue under a lease.

Mirrors. A tab on this node watches a session another node runs through a *mirror*: a
``Session`` loaded from the shared store and kept current by the messages its runner
publishes on the bus. Joining is gap-free: the node listens to the session's channel, waits
until Redis confirmed it, then loads the store; messages that arrived meanwhile are applied
after it, skipping what the store had. A message that skips a seq (pub/sub lost some while
the connection was down) drops the mirror and closes its tabs with 1013: they reconnect
with ``since`` and get exactly what they missed from the store.

Workers. A worker registers (``Coordinator.renew``) and renews its lease every third of
``INTERLOCK_WORKER_LEASE``; it claims tasks when woken (a task was admitted or freed a slot)
and at least once per renewal. Every node looks for expired leases every tenth of the lease
(and a lease is stored to expire a tenth early), so the tasks of a worker that stopped
renewing end ``interrupted`` with reason ``worker lost`` within ``INTERLOCK_WORKER_LEASE`` of
its last renewal. A worker that could not renew for a whole lease stops its own tasks
(another node has interrupted them by then).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from redis.exceptions import RedisError

from .. import protocol as p
from ..exceptions import (
    AnswerRejected,
    CapacityExceeded,
    InvalidParameters,
    StoreError,
    StoreUnavailable,
    TaskNotFound,
)
from ..frames import WireText
from ..hardware import ControllerDisconnected
from ..sessions import Session, utcnow
from ..states import WORKER_LOST_REASON as WORKER_LOST
from ..states import ResolveReason, TaskStatus
from ..store import RequestRecord, TaskRecord
from ..uploads import Upload, input_files
from ..uploads.fields import uploads_of
from .coordinator import Coordinator, Lost, WorkerInfo, needs_controller, this_host
from .rpc import CallFailed, Rpc

if TYPE_CHECKING:
    from ..bus.redis import RedisBus
    from ..manager import CancelOutcome, SessionManager

log = logging.getLogger("interlock.cluster")

#: Seconds a routed answer, cancel or stop waits for the node that acts on it.
CALL_TIMEOUT = 5.0
#: Seconds after which a task admitted but never made ready is taken for abandoned (its
#: node stopped half-way through ``POST /tasks``).
ABANDONED_AFTER = 60.0
#: Tasks a worker claims before it loads them (concurrently).
CLAIM_BATCH = 16
#: Slots freed in one round trip at most.
RELEASE_BATCH = 500
#: Close code of a tab whose mirror fell behind: reconnect with ``since``.
TRY_AGAIN_LATER = 1013
_REQUESTS = (p.type_of(p.RequestConfirmation), p.type_of(p.RequestUserInput))
_RESOLVED = p.type_of(p.RequestResolved)
_STATUS = p.type_of(p.Status)
_PROGRESS = p.type_of(p.Progress)


class ClusterNode:
    """The cluster side of a ``SessionManager`` on Redis (``manager.cluster``)."""

    def __init__(
        self,
        manager: SessionManager,
        bus: RedisBus,
        *,
        worker: bool,
        controller: str | None,
        hardware: Callable[[], Awaitable[dict[str, Any]]] | None = None,
        stop_hardware: Callable[[str | None], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.manager = manager
        self.bus = bus
        self.settings = manager.settings
        self.coordinator = Coordinator(bus._redis, self.settings.redis_prefix)
        self.id = bus.instance_id
        self.worker = worker
        host, pid = this_host()
        self.info = WorkerInfo(
            id=self.id,
            host=host,
            pid=pid,
            task_types=list(self.settings.task_types),
            controller=controller,
        )
        self.hardware = hardware
        self.stop_hardware = stop_hardware
        self.rpc = Rpc(
            bus,
            {
                "answer": self._serve_answer,
                "cancel": self._serve_cancel,
                "hardware": self._serve_hardware,
                "stop_hardware": self._serve_stop,
                "check": self._serve_check,
            },
        )
        #: Sessions mirrored here, and messages that came while one was being loaded.
        self.mirrors: set[str] = set()
        self._joining: dict[str, list[str]] = {}
        self._join_locks: dict[str, asyncio.Lock] = {}
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        #: Tasks that ended here whose slots are still to be freed, and who frees them.
        self._to_release: list[str] = []
        self._releaser: asyncio.Task[None] | None = None
        #: This node's tab counts of sessions, to be written to ``P{sid}:tabs``.
        self._tab_counts: dict[str, int] = {}
        self._tab_writer: asyncio.Task[None] | None = None
        self._lease_ok = True
        bus.on_remote = self._remote
        bus.on_reconnect = self._resync_all
        if worker:
            bus.listen(self.coordinator.wake_channel, lambda _payload: self._wake.set())

    # ----------------------------------------------------------------------- life

    async def start(self) -> None:
        await self.coordinator.alive(self.id, self.settings.worker_lease)
        loops: list[Callable[[], Coroutine[Any, Any, None]]] = [self._reap_loop]
        if self.worker:
            await self._renew(first=True)
            loops += [self._lease_loop, self._claim_loop]
            log.info(
                "Interlock worker %s ready (controller: %s; task types: %s)",
                self.id,
                self.info.controller or "none",
                ", ".join(self.info.task_types) or "every type",
            )
        self._tasks = [asyncio.create_task(f(), name=f"interlock-{f.__name__}") for f in loops]
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming and renewing (the manager ends the tasks), then leave."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        self._tasks = []
        await self.rpc.close()

    async def leave(self) -> None:
        """After the manager ended this worker's tasks: free their slots, end the lease.

        A slot is freed only once its task's end is written. While one is not (the store
        failed to the end), the lease is left to expire: a node that reaps it then ends those
        tasks ``interrupted`` — nothing stays running in the store for ever."""
        if self._releaser is not None:
            await asyncio.wait([self._releaser], timeout=2.0)
        held = len(self._to_release) + len(self.manager.active)
        if held:
            log.error(
                "%d tasks' ends are not confirmed written; this worker's lease is left to "
                "expire: another node ends them within %g s",
                held,
                self.settings.worker_lease,
            )
        with contextlib.suppress(RedisError, OSError, TimeoutError):
            async with asyncio.timeout(2.0):
                if held:
                    await self.coordinator.redis.zrem(self.coordinator.key("nodes"), self.id)
                else:
                    await self.coordinator.leave(self.id)

    # ------------------------------------------------------------------ admission

    async def admit(
        self, session: Session, resources: frozenset[str], *, queue: bool
    ) -> str | None:
        """Put a new task in line (raises ``CapacityExceeded``/``QueueFull``); why it
        waits, or None. ``ready`` lets workers take it once it is stored.

        A worker frees a slot only after its task's end is written, so a client that saw a
        task end may find its slot still held for a moment: a holder whose record has ended
        is freed here (its end is stored) and the task admitted again."""
        tries = 3
        while True:
            try:
                with reaching_redis():
                    return await self.coordinator.admit(
                        session.id,
                        session.record.task_type,
                        resources,
                        queue=queue,
                        max_concurrent=self.settings.max_concurrent,
                        max_queued=self.settings.max_queued,
                    )
            except CapacityExceeded as exc:
                tries -= 1
                if not tries or not await self._ended(exc.holder):
                    raise

    async def _ended(self, holder: str) -> bool:
        """Whether ``holder`` (a slot's task) has ended in the store; then its slot is
        freed here (a slot outlives its end only until the worker frees it)."""
        if not holder:
            return False
        record = await self.manager.store.get_task(holder)
        if record is None or not TaskStatus(record.status).is_terminal:
            return False
        with reaching_redis():
            await self.coordinator.release(holder)
        return True

    async def ready(self, session_id: str) -> None:
        await self.coordinator.ready(session_id)

    async def withdraw(self, session_id: str) -> None:
        with contextlib.suppress(RedisError):
            await self.coordinator.release(session_id)

    def released(self, session: Session) -> None:
        """A task this worker ran ended: free its slot (in the background, in batches:
        ten thousand tasks ending at a shutdown are a few round trips, not 10,000)."""
        self._to_release.append(session.id)
        if self._releaser is None or self._releaser.done():
            self._releaser = asyncio.create_task(self._release_all(), name="interlock-release")

    async def _release_all(self) -> None:
        delay = 0.05
        while self._to_release:
            batch = self._to_release[:RELEASE_BATCH]
            try:
                # Their ends first: a slot freed before it would let a lost end go unseen.
                await self.manager.journal.sync()
                await self.coordinator.release(*batch)
                await self.coordinator.redis.delete(*(self._inputs_key(t) for t in batch))
            except RedisError as exc:
                log.warning("freeing %d slots failed (%s); again in %.2fs", len(batch), exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.05
            del self._to_release[: len(batch)]

    async def waiting_many(self, task_ids: list[str]) -> dict[str, tuple[int | None, str | None]]:
        with reaching_redis():
            return await self.coordinator.waiting_many(task_ids)

    async def waiting(self, session: Session) -> None:
        """Note on the session where it waits and why (``GET /tasks/{id}``)."""
        if session.status not in (TaskStatus.PENDING, TaskStatus.QUEUED):
            session.queue_place, session.queued_reason = None, None
            return
        try:
            place, why = await self.coordinator.waiting(session.id)
        except RedisError:
            return
        session.queue_place, session.queued_reason = place, why

    # ------------------------------------------------------------------- workers

    @property
    def _reap_period(self) -> float:
        """Seconds between two looks for expired leases (a tenth of the lease)."""
        return max(0.02, self.settings.worker_lease / 10)

    async def _renew(self, *, first: bool = False) -> bool:
        if self.hardware is not None:
            with contextlib.suppress(Exception):
                described = await self.hardware()
                axes = [
                    {"name": a.get("id"), "position": a.get("position"), "unit": a.get("unit")}
                    for a in described.get("axes", [])
                ]
                self.info = replace(self.info, axes=axes)
        # Expires a reap period early, so a dead worker's tasks end within the lease.
        expires = self.settings.worker_lease - self._reap_period
        return await self.coordinator.renew(self.info, expires, first=first)

    async def _lease_loop(self) -> None:
        lease = self.settings.worker_lease
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if await self._renew():
                    renewed = loop.time()
                    self._lease_ok = True
                    continue
                log.error("this worker's lease was lost: its tasks are interrupted")
                self._stop_tasks()
                await self._renew(first=True)  # a new lease, for tasks from now on
                renewed = loop.time()
                continue
            except RedisError as exc:
                log.warning("renewing the worker lease failed: %s", exc)
                if loop.time() - renewed < lease:
                    continue
            # Not renewed for a whole lease: others count this worker lost. Stop its tasks.
            self._lease_ok = False
            self._stop_tasks()

    def _stop_tasks(self) -> None:
        for session in list(self.manager.active.values()):
            session.request_cancel(WORKER_LOST)

    async def _claim_loop(self) -> None:
        delay = 0.05
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.worker_lease / 3):
                    await self._wake.wait()
            self._wake.clear()
            try:
                while self._lease_ok:
                    # Several at once: loading a task from the store is most of a take.
                    taken: list[str] = []
                    while len(taken) < CLAIM_BATCH:
                        task_id = await self.coordinator.claim(
                            self.info, self.settings.max_concurrent
                        )
                        if task_id is None:
                            break
                        taken.append(task_id)
                    if not taken:
                        break
                    failed = await asyncio.gather(*(self._take_or_return(t) for t in taken))
                    if any(failed):
                        raise StoreUnavailable("some tasks could not be taken; they wait again")
                delay = 0.05
            except (RedisError, StoreError) as exc:
                log.warning("taking tasks from the queue failed (%s); again in %.2fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                self._wake.set()

    async def _take_or_return(self, task_id: str) -> bool:
        """``_take``; if it fails before the task runs (the store did not answer), the task
        goes back in line for any worker: it never ran. True when it failed."""
        try:
            await self._take(task_id)
        except Exception as exc:
            log.warning("could not take task %s (%s); it waits again", task_id, exc)
            with contextlib.suppress(RedisError):
                await self.coordinator.unclaim(task_id, self.id)
            return True
        return False

    async def _take(self, task_id: str) -> None:
        """Run a task this worker claimed (its record and first messages are stored)."""
        manager = self.manager
        taken = await self._take_over(task_id)
        if taken is None:
            await self.coordinator.release(task_id)
            return
        session, _ = taken
        try:
            task_type = manager.registry.get(session.record.task_type)
            params = task_type.validate(session.record.parameters)
        except Exception as exc:
            log.exception("task %s cannot run here", task_id)
            session.record.error = f"cannot run on worker {self.info.name}: {exc}"
            session.finish(TaskStatus.FAILED, p.TaskFailed(error=session.record.error))
            self.released(session)
            return
        session.resources = task_type.resources(params)
        try:
            await self._fetch_inputs(task_id, params)
            if task_type.check is not None:
                # Submitted elsewhere: checked against this worker's controller first.
                await asyncio.to_thread(task_type.check, params, manager.services)
        except Exception as exc:
            why = _check_failure(exc)
            session.record.error = f"not runnable on worker {self.info.name}: {why}"
            session.finish(TaskStatus.FAILED, p.TaskFailed(error=session.record.error))
            self.released(session)
            return
        manager._params[session.id] = params
        manager._launch(session)

    async def _reap_loop(self) -> None:
        period = self._reap_period
        rounds = 0
        while True:
            await asyncio.sleep(period)
            rounds += 1
            try:
                if rounds % 3 == 0:  # every node says it is alive (its tabs count)
                    await self.coordinator.alive(self.id, self.settings.worker_lease)
                lost = await self.coordinator.reap()
                if rounds % 10 == 0:  # once a lease
                    for task_id in await self.coordinator.abandoned(ABANDONED_AFTER):
                        await self._abandoned(task_id)
            except (RedisError, StoreError) as exc:
                log.warning("checking the workers' leases failed: %s", exc)
                continue
            for item in lost:
                try:
                    await self._interrupt(item)
                except Exception:
                    log.exception("ending task %s of a lost worker failed", item.task_id)

    async def _take_over(self, task_id: str) -> tuple[Session, list[RequestRecord]] | None:
        """A task no node runs, loaded here to be ended here; None if it has ended."""
        record = await self.manager.store.get_task(task_id)
        if record is None or TaskStatus(record.status).is_terminal:
            return None
        return await self._own(record)

    async def _settle(self, session: Session) -> None:
        """A session ended here: its end written (and shown), then kept as a finished one."""
        await self.manager.journal.sync()
        self.manager._remember_finished(session)

    async def _abandoned(self, task_id: str) -> None:
        """A task whose node stopped between admitting and queueing it: it never ran."""
        taken = await self._take_over(task_id)
        if taken is None:
            return
        session, _ = taken
        session.record.error = "the instance that took this task stopped before it was queued"
        session.finish(TaskStatus.FAILED, p.TaskFailed(error=session.record.error))
        await self._settle(session)

    async def _interrupt(self, lost: Lost) -> None:
        """End a task whose worker was lost: ``interrupted``, its open prompt cancelled."""
        manager = self.manager
        running_here = manager.active.get(lost.task_id)
        if running_here is not None:
            # This very worker lost its lease (it was held up): stop the task here.
            running_here.request_cancel(WORKER_LOST)
            return
        taken = await self._take_over(lost.task_id)
        if taken is None:
            return
        session, open_requests = taken
        axes = _axes_of(lost)
        where = ", ".join(
            f"{a.get('name')} at {a.get('position')} {a.get('unit') or ''}".rstrip()
            for a in lost.worker.axes
            if a.get("name") in axes
        )
        session.record.error = f"worker {lost.worker.name} stopped renewing its lease" + (
            f"; the axes the task drove ({', '.join(axes)}; last reported: "
            f"{where or 'nothing'}) may not have been stopped by it: check them"
            if axes
            else " (the task drove no axis)"
        )
        session.cancel_open(open_requests)
        reported = {str(a.get("name")): a for a in lost.worker.axes}
        lost_axes = [
            p.LostAxis(
                axis=name,
                position=reported.get(name, {}).get("position"),
                unit=reported.get(name, {}).get("unit"),
            )
            for name in axes
        ]
        session.finish(
            TaskStatus.INTERRUPTED, p.TaskInterrupted(reason=WORKER_LOST, axes=lost_axes)
        )
        log.error("task %s interrupted: %s", session.id, session.record.error)
        await self._settle(session)

    # -------------------------------------------------------------------- mirrors

    async def _own(self, record: TaskRecord) -> tuple[Session, list[RequestRecord]]:
        """The session of ``record``, loaded from the store to be run (or ended) here. A
        mirror of it becomes that session in place: its tabs hold that very object."""
        session, open_requests = await self.manager._load(record, keep=False)
        # No await from here on: nothing may mirror it again in between.
        mirror = self.manager.sessions.get(record.task_id)
        if mirror is not None and record.task_id in self.mirrors:
            self.mirrors.discard(record.task_id)
            self.bus.unfollow(record.task_id)
            mirror.__dict__.update(session.__dict__)
            session = mirror
        self.manager.sessions[record.task_id] = session
        return session, open_requests

    async def load_copy(self, record: TaskRecord) -> Session:
        """A session another node runs, as the store has it now: its record brought up to
        the messages read after it (status, prompt, progress), its open request shown."""
        known = record.last_seq
        session, open_requests = await self.manager._load(record, keep=False)
        session.show_open(open_requests)
        for seq, data in session.history:
            if seq > known:
                message = json.loads(data)
                _follow_state(session, str(message["type"]), message)
        return session

    def owns(self, session_id: str) -> bool:
        return session_id in self.manager.active

    async def follow(self, session_id: str) -> Session:
        """The session, mirrored here if another node runs it (see the module doc)."""
        manager = self.manager
        session = manager.sessions.get(session_id)
        if session is not None and (session_id in self.mirrors or self.owns(session_id)):
            return session
        lock = self._join_locks.setdefault(session_id, asyncio.Lock())
        async with lock:
            session = manager.sessions.get(session_id)
            if session is not None and (session_id in self.mirrors or self.owns(session_id)):
                return session
            if session is not None and session.status.is_terminal:
                return session
            self._joining[session_id] = []
            self.bus.follow(session_id)
            try:
                async with asyncio.timeout(self.settings.store_timeout):
                    await self.bus.listening(session_id)
                record = await manager.store.get_task(session_id)
                if record is None:
                    raise TaskNotFound(session_id)
                session = await self.load_copy(record)
            except TimeoutError:
                self.bus.unfollow(session_id)
                raise StoreUnavailable("Redis did not confirm the subscription in time") from None
            except BaseException:
                self.bus.unfollow(session_id)
                raise
            finally:
                arrived = self._joining.pop(session_id, [])
                self._join_locks.pop(session_id, None)
            current = manager.sessions.get(session_id)
            if current is not None and self.owns(session_id):
                self.bus.unfollow(session_id)  # this node took it meanwhile
                return current
            manager.sessions[session_id] = session
            if session.status.is_terminal:
                self.bus.unfollow(session_id)
                manager._remember_finished(session)
                return session
            self.mirrors.add(session_id)
            for data in arrived:
                self._apply(session, data)
            return session

    def unfollow(self, session: Session) -> None:
        """The last tab of a mirrored session left: forget it (it is loaded again later)."""
        if session.id in self.mirrors:
            self._drop_mirror(session.id, close=False)

    def _drop_mirror(self, session_id: str, *, close: bool) -> None:
        if session_id not in self.mirrors:
            return
        self.mirrors.discard(session_id)
        self.bus.unfollow(session_id)
        session = self.manager.sessions.pop(session_id, None)
        if close and session is not None:
            for close_tab in list(self.manager.tab_closers(session_id)):
                close_tab(TRY_AGAIN_LATER, "this instance fell behind; reconnect with since")

    def _resync_all(self) -> None:
        """The bus was cut off: what it missed meanwhile is in the store, not here."""
        for session_id in list(self.mirrors):
            self._drop_mirror(session_id, close=True)

    def _remote(self, session_id: str, data: str) -> None:
        """A message another node published for a session."""
        joining = self._joining.get(session_id)
        if joining is not None:
            joining.append(data)
            return
        if session_id not in self.mirrors:
            return
        session = self.manager.sessions.get(session_id)
        if session is None:
            self.mirrors.discard(session_id)
            return
        self._apply(session, data)

    def _apply(self, session: Session, data: str) -> None:
        try:
            message = json.loads(data)
            seq = int(message["seq"])
            kind = str(message["type"])
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed message of session %s", session.id)
            return
        if seq <= session.last_seq:
            return  # the store had it already
        if seq != session.last_seq + 1:
            log.warning(
                "session %s: message %d arrived after %d (some were lost); resyncing",
                session.id,
                seq,
                session.last_seq,
            )
            self._drop_mirror(session.id, close=True)
            return
        session.last_seq = session.record.last_seq = seq
        text = WireText(data)
        session.history.append((seq, text))
        if len(session.history) > session.history_size:
            session._trim()
        session.published(seq)
        _follow_state(session, kind, message)
        self.manager.deliver_mirrored(session, text)
        if session.status.is_terminal:
            session.finished.set()

    # -------------------------------------------------------------------- routing

    async def _owner(self, session_id: str) -> str | None:
        with reaching_redis():
            return await self.coordinator.owner(session_id)

    async def answer(self, session_id: str, args: dict[str, Any]) -> str | None:
        """Hand an answer to the worker running the task; its request id. None when no
        other node runs it (the caller takes it here)."""
        owner = await self._owner(session_id)
        if owner is None or owner == self.id:
            return None
        try:
            reply = await self.rpc.call(owner, "answer", args, CALL_TIMEOUT)
        except CallFailed as exc:
            raise StoreUnavailable(f"the answer may not have been taken: {exc}") from None
        if "request_id" in reply:
            return str(reply["request_id"])
        if "rejected" in reply:
            raise AnswerRejected(reply["rejected"], reply.get("message", ""), reply.get("errors"))
        if reply.get("unavailable"):
            raise StoreUnavailable(reply["unavailable"])
        if reply.get("not_found"):
            raise TaskNotFound(session_id)
        raise StoreError(reply.get("error", "the worker could not take the answer"))

    def _answered_key(self, session_id: str, request_id: str) -> str:
        return f"{self.settings.redis_prefix}{{{session_id}}}:answered:{request_id}"

    async def first_answer(self, request_id: str, session_id: str) -> bool:
        """Whether this is the first answer to the request anywhere (SET NX on its id)."""
        ttl = int(self.settings.retention_days * 86400) or 86400
        with reaching_redis():
            return bool(
                await self.coordinator.redis.set(
                    self._answered_key(session_id, request_id), self.id, nx=True, ex=ttl
                )
            )

    async def forget_answer(self, request_id: str, session_id: str) -> None:
        """The first answer was not taken after all (the store refused it): allow another."""
        with contextlib.suppress(RedisError):
            await self.coordinator.redis.delete(self._answered_key(session_id, request_id))

    async def _serve_answer(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            rid = await self.manager.answer(
                args["session_id"],
                args.get("request_id"),
                p.Answerer.model_validate(args["answerer"]),
                value=args.get("value"),
                values=args.get("values"),
                routed=True,
            )
        except AnswerRejected as exc:
            return {"rejected": exc.code, "message": exc.message, "errors": exc.errors}
        except TaskNotFound:
            return {"not_found": True}
        except StoreError as exc:
            return {"unavailable": str(exc)}
        return {"request_id": rid}

    async def cancel(
        self, session_id: str, reason: str, by: str | None, *, wait: bool
    ) -> CancelOutcome | None:
        """Cancel a task another node holds: out of line if no worker took it yet (ended
        here), else at its worker. None when this node should act itself."""
        from ..manager import CancelOutcome

        with reaching_redis():
            withdrawn = await self.coordinator.withdraw(session_id)
        if withdrawn:
            await self._cancel_waiting(session_id, reason, by)
            return CancelOutcome.ENDED
        owner = await self._owner(session_id)
        if owner is None:
            return CancelOutcome.NOT_ACTIVE
        if owner == self.id:
            return None
        args = {"session_id": session_id, "reason": reason, "by": by, "wait": wait}
        timeout = self.settings.cancel_timeout + CALL_TIMEOUT if wait else CALL_TIMEOUT
        try:
            reply = await self.rpc.call(owner, "cancel", args, timeout)
        except CallFailed:
            return CancelOutcome.STILL_RUNNING
        return CancelOutcome(reply.get("outcome", CancelOutcome.NOT_ACTIVE.value))

    async def _cancel_waiting(self, session_id: str, reason: str, by: str | None) -> None:
        taken = await self._take_over(session_id)
        if taken is None:
            return
        session, _ = taken
        session.request_cancel(reason, by)
        session.finish(TaskStatus.CANCELLED, p.TaskCancelled(reason=reason))
        await self._settle(session)

    async def _serve_cancel(self, args: dict[str, Any]) -> dict[str, Any]:
        from ..manager import CancelOutcome

        sid, reason, by = args["session_id"], args["reason"], args.get("by")
        if args.get("wait"):
            outcome = await self.manager.cancel_and_wait(sid, reason, by, routed=True)
        else:
            ok = self.manager.cancel(sid, reason, by)
            outcome = CancelOutcome.ENDED if ok else CancelOutcome.NOT_ACTIVE
        return {"outcome": outcome.value}

    # -------------------------------------------------------------- input files

    def _inputs_key(self, session_id: str) -> str:
        return f"{self.settings.redis_prefix}{{{session_id}}}:inputs"

    async def share_inputs(self, session_id: str, params: BaseModel) -> None:
        """Put the task's input files (uploads on this node) where its worker finds them:
        ``P{sid}:inputs``, until the task ends (or ``INTERLOCK_UPLOAD_TTL_HOURS``)."""
        refs = input_files(params)
        if not refs:
            return
        store = uploads_of(self.manager.services)
        fields: dict[str, bytes | str] = {}
        for ref in refs.values():
            exported = await store.export(ref)
            if exported is None:
                raise InvalidParameters([{"field": "", "message": f"upload {ref} is gone"}])
            upload, data = exported
            fields[ref] = upload.model_dump_json()
            fields[f"{ref}:data"] = data
        # Deleted when the task ends on its worker; kept at most as long as an upload.
        ttl = int(self.settings.upload_ttl_hours * 3600) or 3600
        with reaching_redis():
            async with self.coordinator.redis.pipeline(transaction=True) as pipe:
                pipe.hset(self._inputs_key(session_id), mapping=fields)
                pipe.expire(self._inputs_key(session_id), ttl)
                await pipe.execute()

    async def _fetch_inputs(self, session_id: str, params: BaseModel) -> None:
        """The task's input files, here before it runs (from ``share_inputs``)."""
        store = uploads_of(self.manager.services)
        for field, ref in input_files(params).items():
            if await store.get(ref) is not None:
                continue
            meta, data = await self.coordinator.redis.hmget(
                self._inputs_key(session_id), [ref, f"{ref}:data"]
            )
            if meta is None or data is None:
                raise InvalidParameters(
                    [{"field": field, "message": f"upload {ref} did not reach this worker"}]
                )
            await store.adopt(Upload.model_validate_json(meta), data)

    # --------------------------------------------------------------------- tabs

    def _tabs_key(self, session_id: str) -> str:
        return f"{self.settings.redis_prefix}{{{session_id}}}:tabs"

    def tabs_changed(self, session_id: str, count: int) -> None:
        """This node now has ``count`` tabs on the session: tell the cluster (in the
        background, coalesced), for the runner's ``INTERLOCK_STOP_ON_DISCONNECT``."""
        self._tab_counts[session_id] = count
        if self._tab_writer is None or self._tab_writer.done():
            self._tab_writer = asyncio.create_task(self._write_tabs(), name="interlock-tabs")

    async def _write_tabs(self) -> None:
        delay = 0.05
        while self._tab_counts:
            counts, self._tab_counts = self._tab_counts, {}
            try:
                async with self.coordinator.redis.pipeline(transaction=False) as pipe:
                    for session_id, count in counts.items():
                        key = self._tabs_key(session_id)
                        if count:
                            pipe.hset(key, self.id, count)
                            pipe.expire(key, 86400)
                        else:
                            pipe.hdel(key, self.id)
                    await pipe.execute()
                delay = 0.05
            except RedisError as exc:
                log.warning("telling the cluster of this node's tabs failed: %s", exc)
                self._tab_counts = {**counts, **self._tab_counts}
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def tabs(self, session_id: str) -> int:
        """Tabs watching the session on every live node (this one's counted here)."""
        local = self.manager.watchers(session_id)
        try:
            counts = await self.coordinator.redis.hgetall(self._tabs_key(session_id))
            others = {k.decode(): int(v) for k, v in counts.items() if k.decode() != self.id}
            alive = await self.coordinator.alive_nodes(list(others)) if others else set()
        except RedisError as exc:
            log.warning("counting the tabs of %s failed: %s", session_id, exc)
            return local  # the safe side: fewer tabs than there may be
        return local + sum(n for node, n in others.items() if node in alive)

    # ------------------------------------------------------------------- checks

    async def check(self, task_type: str, params: BaseModel, resources: frozenset[str]) -> None:
        """A task type's submission check (soft limits, axes: ``InvalidParameters``), run by
        a live worker that may run the task; skipped when none answers (the worker that
        takes it checks again before it runs)."""
        needs = needs_controller(resources)
        with reaching_redis():
            workers = [w for w in await self.coordinator.live_workers() if w.runs(task_type, needs)]
        if not workers:
            return
        args = {"task_type": task_type, "parameters": params.model_dump(mode="json")}
        mine = next((w for w in workers if w.id == self.id), None)
        try:
            if mine is not None:
                reply = await self._serve_check(args)
            else:
                reply = await self.rpc.call(workers[0].id, "check", args, CALL_TIMEOUT)
        except CallFailed:
            log.warning("no worker checked a %s task in time; its worker will", task_type)
            return
        if "invalid" in reply:
            raise InvalidParameters(reply["invalid"])
        if "disconnected" in reply:
            raise ControllerDisconnected(reply["disconnected"])

    async def _serve_check(self, args: dict[str, Any]) -> dict[str, Any]:
        task_type = self.manager.registry.get(args["task_type"])
        if task_type.check is None:
            return {}
        try:
            params = task_type.validate(args["parameters"])
            await asyncio.to_thread(task_type.check, params, self.manager.services)
        except InvalidParameters as exc:
            return {"invalid": exc.errors}
        except ControllerDisconnected as exc:
            return {"disconnected": str(exc)}
        return {}

    # ------------------------------------------------------------------- hardware

    async def workers_hardware(self) -> list[dict[str, Any]]:
        """Every live worker's controller and axes (this one's without a call)."""
        out: list[dict[str, Any]] = []
        for info in await self.coordinator.live_workers():
            if info.controller is None:
                continue
            entry: dict[str, Any] = {"worker": info.id, "host": info.name}
            try:
                if info.id == self.id and self.hardware is not None:
                    entry.update(await self.hardware())
                else:
                    entry.update(await self.rpc.call(info.id, "hardware", {}, CALL_TIMEOUT))
            except CallFailed as exc:
                entry["error"] = str(exc)
            out.append(entry)
        return out

    async def _serve_hardware(self, _args: dict[str, Any]) -> dict[str, Any]:
        if self.hardware is None:
            return {"error": "this worker owns no controller"}
        try:
            return await self.hardware()
        except Exception as exc:
            return {"error": f"controller error: {exc}"}

    async def stop_everywhere(self, by: str | None) -> list[dict[str, Any]]:
        """``POST /hardware/stop`` on every other worker that owns a controller, at once."""
        targets = [
            w for w in await self.coordinator.live_workers() if w.controller and w.id != self.id
        ]

        async def one(info: WorkerInfo) -> dict[str, Any]:
            try:
                return await self.rpc.call(info.id, "stop_hardware", {"by": by}, CALL_TIMEOUT)
            except CallFailed as exc:
                return {
                    "stopped": [],
                    "cancelled": [],
                    "errors": [{"axis": f"worker {info.name}", "error": str(exc)}],
                }

        return list(await asyncio.gather(*(one(w) for w in targets)))

    async def _serve_stop(self, args: dict[str, Any]) -> dict[str, Any]:
        if self.stop_hardware is None:
            return {"stopped": [], "cancelled": [], "errors": []}
        return await self.stop_hardware(args.get("by"))


@contextlib.contextmanager
def reaching_redis() -> Iterator[None]:
    """A call to Redis for the cluster: its errors become ``StoreUnavailable`` (nothing was
    taken; 503 / ``store_unavailable``, the client may try again)."""
    try:
        yield
    except RedisError as exc:
        raise StoreUnavailable(f"the cluster state in Redis is unreachable: {exc}") from exc


def _follow_state(session: Session, kind: str, message: dict[str, Any]) -> None:
    """What a mirror keeps of a message besides its history: status, prompt, progress."""
    record = session.record
    if kind == _STATUS:
        status = TaskStatus(message["status"])
        record.status = status
        if status is TaskStatus.RUNNING and record.started_at is None:
            record.started_at = utcnow()
        if status.is_terminal:
            record.completed_at = utcnow()
    elif kind == _PROGRESS:
        record.progress = message.get("progress", record.progress)
        if message.get("stage") is not None:
            record.stage = message["stage"]
        if message.get("message") is not None or message.get("stage") is not None:
            record.message = message.get("message") or message.get("stage")
    elif kind in _REQUESTS:
        req_record = RequestRecord(
            request_id=message["request_id"],
            session_id=session.id,
            seq=int(message["seq"]),
            kind=message.get("kind", "input"),
            prompt=message.get("prompt", ""),
            payload=message,
        )
        session.show_open([req_record])
    elif kind == _RESOLVED:
        rid = message.get("request_id")
        if session.pending is not None and session.pending.request_id == rid:
            session.pending.future.cancel()
            session.pending = None
        if rid is not None:
            session.resolved[rid] = ResolveReason(message["reason"])


def _check_failure(exc: Exception) -> str:
    if isinstance(exc, InvalidParameters):
        return "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors)
    return f"{type(exc).__name__}: {exc}"


def _axes_of(lost: Lost) -> list[str]:
    """The axes a lost task held: its ``axis:<id>`` resources, or every axis of its worker
    when it held the whole controller; none when it drove no hardware."""
    if not needs_controller(lost.resources):
        return []
    named = [r.split(":", 1)[1] for r in lost.resources if r.startswith("axis:")]
    return named or [str(a.get("name")) for a in lost.worker.axes]
