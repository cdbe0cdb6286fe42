"""``Stage``: how a task moves hardware — confirmed first, cancellable, reported, stopped on exit.

Tasks never call a :class:`Controller` directly. ``async with Stage(ctx, ...) as stage:`` gives
them moves and scans that run the blocking calls in worker threads, stop the axis the moment
the task is cancelled, report progress, and — whatever ends the block early (cancel, failure,
timeout, server shutdown) — stop every axis the task touched before its terminal message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from .exceptions import TaskCancelled, TaskFailed
from .hardware.controller import Axis, Controller
from .hardware.errors import (
    ControllerDisconnected,
    HardwareError,
    MotionCancelled,
    MotionLimitError,
    MotionTimeout,
    UnknownAxisError,
)
from .hardware.limits import DEFAULT_TRAVEL_TIMEOUT, TravelTimeout, check_speed, unit_label
from .hardware.motion import move_and_wait
from .hardware.stopping import halt, run_stop

if TYPE_CHECKING:
    from .runtime import TaskContext

log = logging.getLogger("interlock.hardware")
R = TypeVar("R")

PROGRESS_INTERVAL = 0.05
"""Seconds between two progress messages of one move; positions in between are coalesced."""

TRAVEL_TIMEOUT = "travel_timeout"
"""Key of an optional :class:`TravelTimeout` in the app's services: how long a move may take
(default :data:`~interlock.hardware.limits.DEFAULT_TRAVEL_TIMEOUT`)."""


def controller_of(services: dict[str, Any]) -> Controller:
    """The app's controller (``services["controller"]``)."""
    controller = services.get("controller")
    if not isinstance(controller, Controller):
        raise HardwareError("no controller is configured (services['controller'])")
    return controller


def travel_timeout_of(services: dict[str, Any]) -> TravelTimeout:
    """The app's :class:`TravelTimeout` (``services["travel_timeout"]``), or the default."""
    timeout = services.get(TRAVEL_TIMEOUT, DEFAULT_TRAVEL_TIMEOUT)
    if not isinstance(timeout, TravelTimeout):
        raise HardwareError(f"services[{TRAVEL_TIMEOUT!r}] must be a TravelTimeout")
    return timeout


def linspace(start: float, stop: float, points: int) -> list[float]:
    """``points`` evenly spaced values; the last is ``stop`` exactly, so it never overshoots."""
    step = (stop - start) / (points - 1)
    return [start + step * i for i in range(points - 1)] + [stop]


class Stage:
    """A task's handle on the controller.

    * :meth:`confirm` asks a ``hazard`` confirmation; No or no answer within
      ``confirm_timeout`` ends the task ``cancelled`` with reason ``declined``.
    * :meth:`move_to` and :meth:`scan` check the speed against the axis unit's limits before
      any command (a bad one fails the task), and stop the axis at once when the task is
      cancelled; the task then ends ``cancelled`` with the ``position`` the axis came to rest
      at. A move that takes longer than its :class:`TravelTimeout` allows is stopped and the
      task fails.
    * Leaving the block by an exception stops every touched axis, waits for rest and streams
      where each one stopped. A stop that fails is logged and streamed, the other axes are
      still stopped, and the task fails with the error. Stops run on the stop executor
      (:mod:`interlock.hardware.stopping`), never behind other blocking work.
    """

    def __init__(self, ctx: TaskContext[Any], *, confirm_timeout: float) -> None:
        self.ctx = ctx
        self.controller = controller_of(ctx.services)
        self.travel_timeout = travel_timeout_of(ctx.services)
        self.confirm_timeout = confirm_timeout
        #: Axes this task has commanded, in order; the ones stopped if it ends early.
        self.touched: list[str] = []
        self._axes: dict[str, Axis] = {}

    async def __aenter__(self) -> Stage:
        self._axes = {axis.id: axis for axis in await self.call(self.controller.axes)}
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None and self.touched:
            await self._stop_touched(exc)

    # ------------------------------------------------------------------------ reading

    async def call(self, fn: Callable[..., R], *args: Any) -> R:
        """Run one blocking controller call in a worker thread; a lost link fails the task."""
        try:
            return await asyncio.to_thread(fn, *args)
        except ControllerDisconnected as exc:
            raise TaskFailed(str(exc)) from None

    def axis(self, axis_id: str) -> Axis:
        try:
            return self._axes[axis_id]
        except KeyError:
            raise UnknownAxisError(axis_id, list(self._axes)) from None

    async def position(self, axis: str) -> float:
        return await self.call(self.controller.position, axis)

    async def read_signal(self) -> float:
        return await self.call(self.controller.read_signal)

    # ------------------------------------------------------------------------- acting

    async def confirm(self, prompt: str, details: dict[str, Any]) -> None:
        """Ask before motion; return on Yes. Hazard prompts default to No and never auto-answer."""
        if not await self.ctx.confirm(
            prompt, kind="hazard", details=details, timeout=self.confirm_timeout
        ):
            raise TaskCancelled("declined")

    async def move_to(
        self,
        axis: str,
        target: float,
        speed: float,
        *,
        stage: str | None = None,
        percent: tuple[float, float] = (0.0, 100.0),
        message: str | None = None,
        report: bool = True,
    ) -> float:
        """Move ``axis`` to ``target`` and return where it rests.

        With ``report``, progress (scaled into ``percent``) carries ``details`` ``{axis,
        position, target, unit}``. Raises TaskCancelled with the rest ``position`` when the
        task is cancelled meanwhile, and TaskFailed, with nothing moved, when ``speed`` is not
        sane for the axis' unit, or, with the axis stopped, when the move timed out.
        """
        info = self.axis(axis)
        try:
            check_speed(info, speed)
        except MotionLimitError as exc:
            raise TaskFailed(f"speed {speed!r}: {exc}") from None
        if axis not in self.touched:
            self.touched.append(axis)
        low, high = percent

        async def send(position: float, fraction: float) -> None:
            details = {"axis": axis, "position": position, "target": target, "unit": info.unit}
            await self.ctx.progress(low + (high - low) * fraction, message, stage, details)

        pump = _ProgressPump(send) if report else None
        try:
            position = await move_and_wait(
                self.controller,
                axis,
                mode="absolute",
                value=target,
                speed=speed,
                cancel=self.ctx.cancel_flag,
                on_progress=pump.offer if pump else None,
                timeout=self.travel_timeout,
            )
        except MotionCancelled as exc:
            raise TaskCancelled("cancelled", position=exc.position) from None
        except ControllerDisconnected as exc:
            # Not a stop: the axis may go on under the controller's firmware. __aexit__ tries
            # to stop it anyway and reports that it could not.
            raise TaskFailed(f"Axis {axis}: {exc}; the move was interrupted") from None
        except MotionTimeout as exc:
            label = unit_label(info.unit)
            raise TaskFailed(
                f"Axis {axis} did not reach {target:g} {label} within {exc.timeout:g} s "
                f"(at {speed:g} {label}/s); stopped at {exc.position:g} {label}"
            ) from None
        except asyncio.CancelledError:
            if not self.ctx.cancelled:
                raise  # a task timeout, not a cancel: the runtime reports it
            # move_and_wait let the CancelledError through only once the axis was at rest.
            # Read where on the stop executor: the default one may be busy for a long time.
            position = await run_stop(self.controller.position, axis)
            raise TaskCancelled("cancelled", position=position) from None
        finally:
            if pump is not None:
                await pump.close()
        if pump is not None:
            await send(position, 1.0)
        return position

    async def scan(
        self,
        axis: str,
        start: float,
        stop: float,
        points: int,
        speed: float,
        *,
        stage: str,
        percent: tuple[float, float] = (0.0, 100.0),
    ) -> tuple[list[float], list[float]]:
        """Step ``axis`` through ``points`` positions from ``start`` to ``stop`` and read the
        signal at each. Every point is a progress message with ``details`` ``{axis, x, y,
        point, points}``. Returns the positions reached and the signals."""
        xs: list[float] = []
        ys: list[float] = []
        low, high = percent
        for index, target in enumerate(linspace(start, stop, points), start=1):
            x = await self.move_to(axis, target, speed, report=False)
            y = await self.read_signal()
            xs.append(x)
            ys.append(y)
            await self.ctx.progress(
                low + (high - low) * index / points,
                f"{axis} point {index}/{points}",  # the console shows the stage beside it
                stage,
                {"axis": axis, "x": x, "y": y, "point": index, "points": points},
            )
        return xs, ys

    # ------------------------------------------------------------------------- safety

    async def _stop_touched(self, exc: BaseException) -> None:
        halted = await _to_the_end(halt(self.controller, self.touched))
        if halted.positions:
            where = ", ".join(
                f"{axis} at {position:g} {unit_label(self.axis(axis).unit)}"
                for axis, position in halted.positions.items()
            )
            log.info("task %s: stopped %s", self.ctx.session_id, where)
            await self.ctx.stream(f"Stopped {where}.")
        if not halted.errors:
            return
        problems = "; ".join(f"{axis}: {error}" for axis, error in halted.errors)
        log.error("task %s: could not stop axes: %s", self.ctx.session_id, problems)
        await self.ctx.stream(f"Could not stop {problems}")
        if isinstance(exc, TaskFailed):
            raise TaskFailed(f"{exc.error}. Could not stop axes: {problems}") from exc
        raise TaskFailed(f"Could not stop axes after {_ending(exc)}: {problems}") from exc


def _ending(exc: BaseException) -> str:
    if isinstance(exc, TaskCancelled):
        return f"cancel ({exc.reason})"
    if isinstance(exc, asyncio.CancelledError):
        return "cancel or timeout"
    return f"{type(exc).__name__}: {exc}"


async def _to_the_end(coro: Coroutine[Any, Any, R]) -> R:
    """Run ``coro`` to completion even if the task is cancelled meanwhile (a halt must not
    be abandoned half-way); the cancellation is re-raised afterwards."""
    worker = asyncio.ensure_future(coro)
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        await asyncio.wait([worker])
        raise


class _ProgressPump:
    """Sends the newest position of a move as progress, at most every PROGRESS_INTERVAL.

    ``move_and_wait`` calls :meth:`offer` on the loop thread for every new position; sending
    each would flood the tabs, and ``ctx.progress`` is a coroutine, so a small task sends the
    latest one.
    """

    def __init__(self, send: Callable[[float, float], Awaitable[None]]) -> None:
        self._send = send
        self._latest = (0.0, 0.0)
        self._ready = asyncio.Event()
        self._task = asyncio.create_task(self._run())

    def offer(self, position: float, fraction: float) -> None:
        self._latest = (position, fraction)
        self._ready.set()

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self._send(*self._latest)
            await asyncio.sleep(PROGRESS_INTERVAL)

    async def close(self) -> None:
        self._task.cancel()
        await asyncio.wait([self._task])
