"""Stopping axes, on threads that do nothing else.

Controller calls block, so async code runs them in threads. The event loop's default
executor serves every ``asyncio.to_thread``: move watchers, ``ctx.run_blocking`` work, reads.
It has ``min(32, cpus + 4)`` threads; once they are all busy, a stop submitted there waits
for one of them, for as long as the work ahead of it takes. So every stop command goes to
:data:`STOPPER`, a small executor that runs stop commands and the short reads of the stop
path (is the axis at rest yet? where?) and nothing else:

* ``await run_stop(fn, *args)`` from async code;
* ``submit_stop(controller, axes)`` from any thread, signal handlers included: it returns a
  ``concurrent.futures.Future`` at once, without waiting for the stops.

:class:`StopExecutor` is not a ``ThreadPoolExecutor``: that one's ``submit`` takes a lock
that every ``ThreadPoolExecutor`` in the process shares, the loop's default executor
included, so a signal handler submitting a stop while it interrupted the main thread inside
``asyncio.to_thread`` would deadlock. Here ``submit`` only puts on a ``queue.SimpleQueue``,
which is safe to re-enter, and the worker threads are started up front.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any, TypeVar

from .controller import Controller
from .errors import HardwareError

R = TypeVar("R")

DEFAULT_STOP_TIMEOUT = 5.0
"""Seconds a stopped axis may take to come to rest before that is treated as a fault."""

STOP_WORKERS = 2
"""Threads of :data:`STOPPER`: one stop hung on a dead controller link does not hold up
the next."""

_Work = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...], dict[str, Any]]


class StopExecutor(Executor):
    """An executor whose ``submit`` is safe from any thread and from signal handlers.

    ``workers`` daemon threads are started by the constructor and take work in submission
    order. A daemon thread does not hold up the process's exit: whoever needs a stop done
    before exiting waits on its future.
    """

    def __init__(self, workers: int = STOP_WORKERS, name: str = "interlock-stop") -> None:
        if workers < 1:
            raise ValueError("a stop executor needs at least one worker")
        self._workers = workers
        self._name = name
        self._closed = False
        self._start()

    def _start(self) -> None:
        self._queue: queue.SimpleQueue[_Work | None] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True)
            for i in range(self._workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, fn: Callable[..., R], /, *args: Any, **kwargs: Any) -> Future[R]:
        """Queue ``fn(*args, **kwargs)`` and return its future at once; never blocks."""
        if self._closed:
            raise RuntimeError("cannot submit to a stop executor that was shut down")
        future: Future[R] = Future()
        self._queue.put((future, fn, args, kwargs))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Let the workers finish what was submitted, then end them (join them if ``wait``).

        Submitted stops are never dropped: ``cancel_futures`` is accepted for the
        ``Executor`` interface and ignored.
        """
        if not self._closed:
            self._closed = True
            for _ in self._threads:
                self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args, kwargs = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:
                future.set_exception(exc)
            else:
                future.set_result(result)
            del item, future, fn, args, kwargs  # drop references while waiting for more


STOPPER = StopExecutor()
"""The process's stop executor."""

if hasattr(os, "register_at_fork"):
    # Threads do not survive fork(); a child process gets fresh ones.
    os.register_at_fork(after_in_child=STOPPER._start)


async def run_stop(fn: Callable[..., R], *args: Any) -> R:
    """Run ``fn(*args)`` on :data:`STOPPER` and return its result.

    Cancelling the caller does not cancel ``fn``: a stop once submitted is carried out.
    """
    inner = asyncio.wrap_future(STOPPER.submit(fn, *args))
    # Retrieve the outcome even when nobody awaits it any more (the caller was cancelled).
    inner.add_done_callback(lambda f: f.cancelled() or f.exception())
    return await asyncio.shield(inner)


def submit_stop(controller: Controller, axes: Iterable[str]) -> Future[list[tuple[str, Exception]]]:
    """Command a stop of every axis in ``axes`` on :data:`STOPPER`; return without waiting.

    Safe from any thread and from a signal handler: it neither blocks nor takes a lock
    another thread may hold. The future's result is :func:`stop_axes`' list of failures.
    """
    return STOPPER.submit(stop_axes, controller, list(axes))


def stop_axes(controller: Controller, axes: Iterable[str]) -> list[tuple[str, Exception]]:
    """Command a stop on every axis in ``axes``, carrying on past failures.

    Returns ``(axis, error)`` for each stop that raised; an empty list means every stop was
    accepted. Blocking: from async code use ``await run_stop(stop_axes, controller, axes)``.
    """
    errors: list[tuple[str, Exception]] = []
    for axis in axes:
        try:
            controller.stop(axis)
        except Exception as exc:
            errors.append((axis, exc))
    return errors


@dataclass
class Halted:
    """What a halt did: where each stopped axis came to rest, and what failed."""

    positions: dict[str, float]
    errors: list[tuple[str, Exception]]


def _sample_rest(
    controller: Controller, axes: list[str]
) -> tuple[list[str], dict[str, float], list[tuple[str, Exception]]]:
    """One look at ``axes``: the ones still moving, where the others rest, read errors."""
    moving, rest, errors = [], {}, []
    for axis in axes:
        try:
            if controller.is_moving(axis):
                moving.append(axis)
            else:
                rest[axis] = controller.position(axis)
        except Exception as exc:
            errors.append((axis, exc))
    return moving, rest, errors


def _late(axes: list[str], stop_timeout: float) -> list[tuple[str, Exception]]:
    late = f"still moving {stop_timeout:g} s after stop"
    return [(axis, HardwareError(f"axis {axis!r} {late}")) for axis in axes]


def halt_axes(
    controller: Controller,
    axes: Iterable[str],
    *,
    stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    poll_interval: float = 0.01,
) -> Halted:
    """Stop every axis in ``axes``, wait until they rest, and return where they stopped.

    Carries on past failures like :func:`stop_axes`. An axis whose stop raised, that is still
    moving ``stop_timeout`` seconds later, or whose state cannot be read is reported in
    ``errors``; every other axis is in ``positions``. Blocking; async code uses :func:`halt`.
    """
    order = list(axes)
    errors = stop_axes(controller, order)
    failed = {axis for axis, _ in errors}
    waiting = [axis for axis in order if axis not in failed]
    deadline = time.monotonic() + stop_timeout
    rest: dict[str, float] = {}
    while waiting:
        waiting, found, problems = _sample_rest(controller, waiting)
        rest.update(found)
        errors.extend(problems)
        if waiting and time.monotonic() >= deadline:
            errors.extend(_late(waiting, stop_timeout))
            break
        if waiting:
            time.sleep(poll_interval)
    return Halted({axis: rest[axis] for axis in order if axis in rest}, errors)


async def halt(
    controller: Controller,
    axes: Iterable[str],
    *,
    stop_timeout: float = DEFAULT_STOP_TIMEOUT,
    poll_interval: float = 0.01,
) -> Halted:
    """:func:`halt_axes` for async code: every controller call runs on :data:`STOPPER`.

    The stops are commanded first, in one submission; the wait for rest happens on the event
    loop between short reads, so it never holds a stop worker while the axes decelerate.
    """
    loop = asyncio.get_running_loop()
    order = list(axes)
    errors = await run_stop(stop_axes, controller, order)
    failed = {axis for axis, _ in errors}
    waiting = [axis for axis in order if axis not in failed]
    deadline = loop.time() + stop_timeout
    rest: dict[str, float] = {}
    while waiting:
        waiting, found, problems = await run_stop(_sample_rest, controller, waiting)
        rest.update(found)
        errors.extend(problems)
        if waiting and loop.time() >= deadline:
            errors.extend(_late(waiting, stop_timeout))
            break
        if waiting:
            await asyncio.sleep(poll_interval)
    return Halted({axis: rest[axis] for axis in order if axis in rest}, errors)
