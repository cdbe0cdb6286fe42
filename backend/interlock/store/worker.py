"""``StoreThread``: one thread that runs a store's blocking calls in order, each caller
waiting at most a timeout.

A caller that gives up (timeout or cancellation) gets ``StoreUnavailable`` at once, but the
thread cannot be interrupted mid-call, so the two sides agree through a ticket: a call whose
caller gave up before it started is skipped; one that is running can check ``abandoned``
just before it commits (and roll back), and ``finish`` tells it afterwards whether its
caller was still there to see the result.

The hop is kept lean because every group commit takes it, and an idle server pays for it
in latency: a ``SimpleQueue`` to the thread, one ``call_soon_threadsafe`` back, one timer
for the deadline (``run_in_executor`` plus ``asyncio.wait`` cost about three times as much).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..exceptions import StoreUnavailable

T = TypeVar("T")

log = logging.getLogger("interlock.store")


class Abandoned(Exception):
    """Raised on the store thread: the caller of the running call gave up. Roll back."""


class _Ticket:
    __slots__ = ("abandoned", "finished", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.abandoned = False
        self.finished = False

    def abandon(self) -> bool:
        """Give up; True when the call had finished already (its result is on its way)."""
        with self.lock:
            self.abandoned = True
            return self.finished

    def finish(self) -> bool:
        """The call is done; True when its caller still waits for the result."""
        with self.lock:
            self.finished = True
            return not self.abandoned


class _Call(Generic[T]):
    """One call queued for the thread, and where its outcome goes."""

    __slots__ = ("fn", "future", "loop", "ticket")

    def __init__(
        self, fn: Callable[[], T], loop: asyncio.AbstractEventLoop, future: asyncio.Future[T]
    ) -> None:
        self.fn = fn
        self.loop = loop
        self.future = future
        self.ticket = _Ticket()

    def settle(self, result: Any, error: BaseException | None) -> None:
        """On the thread: hand the outcome to the caller's loop (unless it gave up)."""
        # RuntimeError: the caller's loop is closed, nobody waits any more.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(_settle, self.future, result, error)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller gave up (timeout, cancellation)
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class StoreThread:
    """Runs blocking calls on one dedicated thread, in call order; ``what`` names the store
    in messages ("the database /var/lib/interlock/interlock.sqlite3").

    The thread starts with the first call and is a daemon: a call still running when the
    interpreter exits is cut short as by a crash (SQLite rolls it back)."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        self._calls: queue.SimpleQueue[_Call[Any] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._ticket = _Ticket()  # the running call's; touched on the thread only

    async def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the thread. ``StoreUnavailable`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        call = self._submit(fn, loop)
        expiry = loop.call_later(self.timeout, self._expire, call)
        try:
            return await call.future
        except asyncio.CancelledError:
            call.ticket.abandon()
            raise
        finally:
            expiry.cancel()

    def _submit(self, fn: Callable[[], T], loop: asyncio.AbstractEventLoop) -> _Call[T]:
        if self._closed:
            raise StoreUnavailable(f"{self.what} is closed")
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name="interlock-store", daemon=True)
            self._thread.start()
        call = _Call(fn, loop, loop.create_future())
        self._calls.put(call)
        return call

    def _expire(self, call: _Call[Any]) -> None:
        if call.future.done() or call.ticket.abandon():
            return  # settled, or finished with its result on the way
        call.future.set_exception(
            StoreUnavailable(
                f"{self.what} did not answer within {self.timeout:g} s (INTERLOCK_STORE_TIMEOUT)"
            )
        )

    def _serve(self) -> None:
        while (call := self._calls.get()) is not None:
            if call.ticket.abandoned:
                call.settle(None, Abandoned())  # skipped: its caller has gone
                continue
            self._ticket = call.ticket
            try:
                result = call.fn()
            except BaseException as exc:
                call.settle(None, exc)
                continue
            call.ticket.finish()
            call.settle(result, None)

    # Called on the thread, by the running call.

    def abandoned(self) -> bool:
        """Whether the running call's caller has given up (check it just before COMMIT)."""
        return self._ticket.abandoned

    def finish(self) -> bool:
        """Mark the running call done now (just after COMMIT); False when its caller had
        already given up and so believes it failed."""
        return self._ticket.finish()

    async def close(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` as the last call and stop the thread. A thread still stuck in a call
        after ``timeout`` is left to finish it (then ``fn``) on its own, with a warning."""
        loop = asyncio.get_running_loop()
        call = self._submit(fn, loop)
        self._closed = True
        self._calls.put(None)
        done, _ = await asyncio.wait({call.future}, timeout=self.timeout)
        if not done:
            log.warning("%s is busy; it closes when the running call ends", self.what)
            return
        try:
            await call.future
        finally:
            assert self._thread is not None
            # It ends right after ``fn`` (the stop marker is next); joining is still a
            # blocking wait: not on the event loop.
            await asyncio.to_thread(self._thread.join)
