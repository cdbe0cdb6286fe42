"""Async helpers that drive a blocking :class:`Controller` without blocking the event loop.

Each helper runs the controller calls in a worker thread and watches a ``threading.Event``
for cancellation. A ``threading.Event`` rather than an ``asyncio.Event`` because the worker
thread has to block on it: ``cancel.wait(poll_interval)`` is both the poll delay and the
cancel check, so ``cancel.set()`` from any thread wakes the worker at once and the stop is
commanded within microseconds, not after the rest of a sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from .controller import Controller
from .errors import HardwareError, MotionCancelled, MotionTimeout
from .limits import DEFAULT_TRAVEL_TIMEOUT, TravelTimeout
from .stopping import DEFAULT_STOP_TIMEOUT

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[float, float], None]
"""Called with ``(position, fraction)``; ``fraction`` runs from 0 to 1 over the move."""


async def move_and_wait(
    controller: Controller,
    axis: str,
    *,
    mode: Literal["relative", "absolute"],
    value: float,
    speed: float,
    cancel: threading.Event,
    on_progress: ProgressCallback | None = None,
    poll_interval: float = 0.01,
    # Enforced in the worker rather than with asyncio.timeout, so expiry stops the axis.
    timeout: float | TravelTimeout | None = DEFAULT_TRAVEL_TIMEOUT,
    stop_timeout: float = DEFAULT_STOP_TIMEOUT,
) -> float:
    """Move ``axis`` by (``relative``) or to (``absolute``) ``value`` and wait until it rests.

    Returns the final position. ``speed`` must be positive and finite (``ValueError``
    otherwise, before anything moves). The worker thread checks ``cancel`` first on every
    poll; once it is set the axis is stopped at once, and :class:`MotionCancelled` is raised
    when it stands still. A move still running after ``timeout`` is stopped the same way and
    raises :class:`MotionTimeout`. ``timeout`` is in seconds, or a :class:`TravelTimeout`
    that derives it from this move's distance (known once its start position is read); None
    waits for ever. If the stop itself fails, or the axis is not at rest ``stop_timeout``
    seconds after it, :class:`HardwareError` is raised instead.

    ``on_progress`` runs on the event loop's thread, never in the worker, and every call is
    delivered before this coroutine returns or raises. Calls are made only when the position
    changed, plus once at the end.

    If the awaiting task is cancelled, the axis is stopped before the ``CancelledError``
    propagates, so a cancelled task never leaves an axis moving unattended. A worker that
    has not started yet (every thread of the default executor busy) is not waited for: it
    will see the cancellation before it commands anything.
    """
    if mode not in ("relative", "absolute"):
        raise ValueError(f"mode must be 'relative' or 'absolute', not {mode!r}")
    if not (math.isfinite(speed) and speed > 0):
        raise ValueError(f"speed must be positive and finite, not {speed}")
    watch = _MoveWatch(
        controller, axis, mode, value, speed, cancel, poll_interval, timeout, stop_timeout
    )
    if on_progress is not None:
        watch.deliver_to(asyncio.get_running_loop(), on_progress)
    worker = asyncio.ensure_future(asyncio.to_thread(watch.run))
    try:
        return await asyncio.shield(worker)
    except asyncio.CancelledError:
        watch.abandoned.set()
        if not watch.started.is_set():
            # Queued behind other work: it checks ``abandoned`` (set above) after ``started``
            # and before the move, so nothing will move. Do not wait for a thread to free up.
            worker.cancel()
            raise
        # Wait for the worker to command the stop (it polls ``abandoned``) before letting the
        # cancellation through; its MotionCancelled is expected and dropped.
        await asyncio.wait([worker])
        error = None if worker.cancelled() else worker.exception()
        if error is not None and not isinstance(error, MotionCancelled):
            # The CancelledError must win, but a failed stop must not go unnoticed.
            logger.error("stopping axis %r after cancellation failed", axis, exc_info=error)
        raise


@dataclass
class _MoveWatch:
    """One move and the blocking loop that watches it from a worker thread."""

    controller: Controller
    axis: str
    mode: Literal["relative", "absolute"]
    value: float
    speed: float
    cancel: threading.Event
    poll_interval: float
    timeout: float | TravelTimeout | None
    stop_timeout: float
    started: threading.Event = field(default_factory=threading.Event)
    abandoned: threading.Event = field(default_factory=threading.Event)
    report: ProgressCallback = field(default=lambda position, fraction: None)

    def deliver_to(self, loop: asyncio.AbstractEventLoop, on_progress: ProgressCallback) -> None:
        def report(position: float, fraction: float) -> None:
            if self.abandoned.is_set():
                return
            # An abandoned worker may outlive the loop; nobody is listening then.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(on_progress, position, fraction)

        self.report = report

    def run(self) -> float:
        self.started.set()
        try:
            return self._drive()
        except (MotionCancelled, MotionTimeout):
            raise
        except BaseException as exc:
            # Whatever broke the watch loop, the axis must not keep running unattended.
            try:
                self.controller.stop(self.axis)
            except Exception as stop_exc:
                exc.add_note(f"stopping axis {self.axis!r} afterwards also failed: {stop_exc}")
            raise

    def _drive(self) -> float:
        controller, axis = self.controller, self.axis
        start = controller.position(axis)
        target = start + self.value if self.mode == "relative" else self.value
        timeout = self.timeout
        if isinstance(timeout, TravelTimeout):
            timeout = timeout.seconds(target - start, self.speed)
        if self.cancel.is_set() or self.abandoned.is_set():
            raise MotionCancelled(axis, start)
        if self.mode == "relative":
            controller.move_relative(axis, self.value, self.speed)
        else:
            controller.move_absolute(axis, self.value, self.speed)
        started = time.monotonic()
        last: float | None = None
        while True:
            if self.cancel.is_set() or self.abandoned.is_set():
                raise MotionCancelled(axis, self._halt())
            moving = controller.is_moving(axis)
            position = controller.position(axis)
            if position != last or not moving:
                self.report(position, _fraction(start, target, position))
                last = position
            if not moving:
                return position
            if timeout is not None and time.monotonic() - started >= timeout:
                raise MotionTimeout(axis, self._halt(), timeout)
            self.cancel.wait(self.poll_interval)

    def _halt(self) -> float:
        """Stop the axis, wait until it rests and return where; raise if it will not rest."""
        self.controller.stop(self.axis)
        deadline = time.monotonic() + self.stop_timeout
        while self.controller.is_moving(self.axis):
            if time.monotonic() >= deadline:
                raise HardwareError(
                    f"axis {self.axis!r} still moving {self.stop_timeout:g} s after stop"
                )
            # A plain sleep: the stop is already commanded, nothing can shorten this wait.
            time.sleep(self.poll_interval)
        return self.controller.position(self.axis)


def _fraction(start: float, target: float, position: float) -> float:
    span = target - start
    if span == 0:
        return 1.0
    return min(1.0, max(0.0, (position - start) / span))


async def scan(
    controller: Controller,
    axis: str,
    start: float,
    stop: float,
    points: int,
    speed: float,
    cancel: threading.Event,
    on_point: Callable[[float, float], None] | None = None,
    *,
    move_timeout: float | TravelTimeout | None = DEFAULT_TRAVEL_TIMEOUT,
) -> tuple[list[float], list[float]]:
    """Step ``axis`` through ``points`` evenly spaced positions and read the signal at each.

    Returns ``(positions, signals)`` with the positions actually reached. ``on_point`` is
    called on the event loop's thread after each reading. Cancellation and timeouts behave
    as in :func:`move_and_wait`, whose exceptions propagate.
    """
    if points < 2:
        raise ValueError("a scan needs at least 2 points")
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ValueError("scan bounds must be finite")
    xs: list[float] = []
    ys: list[float] = []
    # The last point is ``stop`` itself, so rounding never pushes it past a soft limit.
    targets = [start + (stop - start) * i / (points - 1) for i in range(points - 1)] + [stop]
    for target in targets:
        reached = await move_and_wait(
            controller,
            axis,
            mode="absolute",
            value=target,
            speed=speed,
            cancel=cancel,
            timeout=move_timeout,
        )
        signal = await asyncio.to_thread(controller.read_signal)
        xs.append(reached)
        ys.append(signal)
        if on_point is not None:
            on_point(reached, signal)
    return xs, ys
