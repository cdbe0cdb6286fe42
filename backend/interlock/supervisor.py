"""``MotionSupervisor``: hardware safety around sessions, for the whole server.

A task stops its own axes when it ends early (:class:`~interlock.stage.Stage`). The
supervisor adds what no single task can do:

* the operator's software stop (``POST /hardware/stop``): cancel every task that holds axes,
  then stop every axis;
* a safety net when a task ends any way but ``completed``: axes it held that still move are
  stopped;
* stop on disconnect (``INTERLOCK_STOP_ON_DISCONNECT``): when the last tab of a running motion
  task closes and none is back within the grace period, cancel the task;
* shutdown: after the manager cancelled every task, stop every axis and log it.

Every stop runs on the stop executor (:mod:`interlock.hardware.stopping`), so it reaches the
controller at once even while every thread of the loop's default executor is busy.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from .hardware.controller import Axis, AxisStatus, Controller
from .hardware.errors import ControllerDisconnected
from .hardware.resources import held_axes
from .hardware.stopping import halt, run_stop, stop_axes
from .states import TaskStatus

if TYPE_CHECKING:
    from .manager import SessionManager
    from .sessions import Session

log = logging.getLogger("interlock.hardware")

HARDWARE_STOP = "hardware stop"
OPERATOR_DISCONNECTED = "operator disconnected"


class MotionSupervisor:
    """Owns the controller for the server: stops, shutdown, and the session hooks."""

    def __init__(
        self,
        manager: SessionManager,
        controller: Controller,
        *,
        stop_on_disconnect: bool = False,
        grace: float = 5.0,
        owns_controller: bool = False,
    ) -> None:
        self.manager = manager
        self.controller = controller
        self.stop_on_disconnect = stop_on_disconnect
        self.grace = grace
        self.owns_controller = owns_controller
        # Axes are static; reading them once keeps the hooks (which run on the loop) free of
        # controller calls.
        self.axis_ids = [axis.id for axis in controller.axes()]
        self._timers: dict[str, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()

    def install(self) -> None:
        self.manager.exit_hooks.append(self._on_exit)
        self.manager.disconnect_hooks.append(self._on_disconnect)
        self.manager.start_hooks.append(self._on_start)

    # ------------------------------------------------------------------------ state

    async def describe(self) -> dict[str, Any]:
        """``GET /hardware``: the controller name, whether its link is up, and every axis with
        its state (a ``fault`` while the link is down) and limits."""
        axes, status, connected = await asyncio.to_thread(
            lambda: (self.controller.axes(), self.controller.status(), self.controller.connected)
        )
        return {
            "controller": self.controller.name,
            "connected": connected,
            "axes": [_axis_view(axis, status[axis.id]) for axis in axes],
        }

    # ------------------------------------------------------------------------- stops

    async def stop_all(self, reason: str = HARDWARE_STOP, by: str | None = None) -> dict[str, Any]:
        """Cancel every task that holds (or waits in the queue for) axes, then stop every axis.
        ``by`` is who pressed stop (their tasks' ``cancelled_by``).

        Cancelling first matters: it sets each task's cancel flag, so its mover stops its axis
        at once and the task ends ``cancelled``; an axis stopped under a mover that was not
        told would look like a finished move.
        """
        cancelled = [
            session.id
            for session in [*self.manager.queue, *self.manager.active.values()]
            if held_axes(session.resources, self.axis_ids)
            and self.manager.cancel(session.id, reason, by)
        ]
        errors = await run_stop(stop_axes, self.controller, self.axis_ids)
        failed = {axis for axis, _ in errors}
        stopped = [axis for axis in self.axis_ids if axis not in failed]
        log.info("%s: stopped axes %s; cancelled tasks %s", reason, stopped, cancelled)
        for axis, error in errors:
            log.error("%s: could not stop axis %s: %s", reason, axis, error)
        return {
            "stopped": stopped,
            "cancelled": cancelled,
            "errors": [{"axis": axis, "error": str(error)} for axis, error in errors],
        }

    def stop_everything(self, cause: str) -> threading.Thread:
        """Stop every axis now, from a new thread; callable from a signal handler.

        First every live task's cancel flag is set (its move watcher then stops its axis
        and no task starts a new move), then every axis of the controller is commanded to
        stop. Neither needs the event loop, so a busy loop or a stalled connection cannot
        delay it. Returns the started thread."""

        def run() -> None:
            for session in _snapshot(self.manager.active):
                session.cancel_flag.set()
            errors = stop_axes(self.controller, self.axis_ids)
            failed = {axis for axis, _ in errors}
            stopped = [axis for axis in self.axis_ids if axis not in failed]
            log.warning("%s: stop commanded on axes %s", cause, ", ".join(stopped) or "(none)")
            for axis, error in errors:
                log.error("%s: could not stop axis %s: %s", cause, axis, error)

        thread = threading.Thread(target=run, name="interlock-stop-everything", daemon=True)
        thread.start()
        return thread

    async def shutdown(self) -> None:
        """After every task was cancelled: stop and wait for every axis, log it, close."""
        for timer in self._timers.values():
            timer.cancel()
        pending = [*self._timers.values(), *self._background]
        if pending:
            await asyncio.wait(pending)
        halted = await halt(self.controller, self.axis_ids)
        where = ", ".join(f"{axis} at {pos:g}" for axis, pos in halted.positions.items())
        log.info("server shutdown: stopped axes %s", where or "(none)")
        for axis, error in halted.errors:
            log.error("server shutdown: could not stop axis %s: %s", axis, error)
        if self.owns_controller:
            try:
                # close() stops every axis too, so it goes where stops go.
                await run_stop(self.controller.close)
            except Exception:
                log.exception("closing the controller failed")

    # ------------------------------------------------------------------------- hooks

    def _on_exit(self, session: Session) -> None:
        timer = self._timers.pop(session.id, None)
        if timer is not None:
            timer.cancel()
        axes = held_axes(session.resources, self.axis_ids)
        if axes and session.status is not TaskStatus.COMPLETED:
            self._spawn(self._stop_still_moving(session.id, axes))

    async def _stop_still_moving(self, session_id: str, axes: list[str]) -> None:
        """Safety net for tasks that moved axes without a Stage (or whose stop failed)."""

        def stop_moving() -> tuple[list[str], list[tuple[str, Exception]]]:
            moving = [axis for axis in axes if self.controller.is_moving(axis)]
            return moving, stop_axes(self.controller, moving)

        try:
            moving, errors = await run_stop(stop_moving)
        except ControllerDisconnected as exc:
            log.error("task %s ended; cannot check its axes %s: %s", session_id, axes, exc)
            return
        except Exception:
            log.exception("task %s ended; checking its axes failed", session_id)
            return
        if moving:
            log.warning("task %s ended with axes still moving; stopped %s", session_id, moving)
        for axis, error in errors:
            log.error("task %s ended; could not stop axis %s: %s", session_id, axis, error)

    def _on_disconnect(self, session: Session) -> None:
        if self.manager.cluster is not None:
            return  # the tabs are on every node: ``_watch_tabs`` counts them all
        if not self.stop_on_disconnect or not held_axes(session.resources, self.axis_ids):
            return
        old = self._timers.pop(session.id, None)
        if old is not None:
            old.cancel()
        timer = asyncio.create_task(self._cancel_unless_back(session))
        self._timers[session.id] = timer

    async def _cancel_unless_back(self, session: Session) -> None:
        """After the grace period with no tab: cancel the task if it runs. While it waits at a
        prompt nothing moves, so keep watching: an answer over HTTP would start motion that
        nobody sees, and that must stop too."""
        while True:
            await asyncio.sleep(self.grace)
            if self.manager.watchers(session.id) > 0 or session.status.is_terminal:
                self._timers.pop(session.id, None)
                return  # a tab came back (its own close re-arms the timer), or it ended
            if session.status is TaskStatus.RUNNING:
                break
        self._timers.pop(session.id, None)
        log.warning(
            "task %s: no operator connected for %g s; cancelling it", session.id, self.grace
        )
        self.manager.cancel(session.id, OPERATOR_DISCONNECTED)

    def _on_start(self, session: Session) -> None:
        if self.manager.cluster is None or not self.stop_on_disconnect:
            return
        if held_axes(session.resources, self.axis_ids):
            self._timers[session.id] = asyncio.create_task(self._watch_tabs(session))

    async def _watch_tabs(self, session: Session) -> None:
        """With several nodes (Redis) a task's tabs may be on any of them: count them all
        a few times per grace period. Once it has been watched, a task that runs with no tab
        anywhere for the whole grace period is cancelled, as on one server (waiting at a
        prompt moves nothing: it is cancelled once it runs again, say answered over HTTP)."""
        loop = asyncio.get_running_loop()
        seen, alone_since = False, None
        while not session.status.is_terminal:
            await asyncio.sleep(max(self.grace / 4, 0.05))
            if await self.manager.watchers_anywhere(session.id) > 0:
                seen, alone_since = True, None
                continue
            if not seen:
                continue
            if alone_since is None:
                alone_since = loop.time()
            if loop.time() - alone_since >= self.grace and session.status is TaskStatus.RUNNING:
                log.warning(
                    "task %s: no operator connected to any instance for %g s; cancelling it",
                    session.id,
                    self.grace,
                )
                self.manager.cancel(session.id, OPERATOR_DISCONNECTED)
                break
        self._timers.pop(session.id, None)

    def _spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)


def _axis_view(axis: Axis, status: AxisStatus) -> dict[str, Any]:
    fault = status.get("fault")
    return {
        "id": axis.id,
        "name": axis.name,
        "unit": axis.unit,
        "position": status["position"],
        "moving": status["moving"],
        "min": axis.min,
        "max": axis.max,
        "state": "fault" if fault else ("moving" if status["moving"] else "idle"),
        "fault": fault,
    }


def _snapshot(sessions: dict[str, Session]) -> list[Session]:
    """The values of a dict another thread may be changing (retried until a clean copy)."""
    for _ in range(100):
        try:
            return list(sessions.values())
        except RuntimeError:  # changed size during iteration
            continue
    return []
