"""``StoreThread``: one thread that runs a store's blocking calls in order, each caller
waiting at most a timeout.

A caller that gives up (timeout or cancellation) gets ``StoreUnavailable`` at once, but the
thread cannot be interrupted mid-call, so the two sides agree through a ticket: a call whose
caller gave up before it started is skipped; one that is running can check ``abandoned``
just before it commits (and roll back), and ``finish`` tells it afterwards whether its
caller was still there to see the result.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

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


class StoreThread:
    """Runs blocking calls on one dedicated thread, in call order; ``what`` names the store
    in messages ("the database /var/lib/interlock/interlock.sqlite3")."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="interlock-store")
        self._ticket = _Ticket()  # the running call's; touched on the thread only

    async def call(self, fn: Callable[[], T]) -> T:
        """``fn()`` on the thread. ``StoreUnavailable`` after ``timeout`` seconds."""
        ticket = _Ticket()
        future = asyncio.get_running_loop().run_in_executor(self._executor, self._run, ticket, fn)
        try:
            done, _ = await asyncio.wait({future}, timeout=self.timeout)
        except asyncio.CancelledError:
            ticket.abandon()
            future.cancel()
            raise
        if not done and not ticket.abandon():
            future.cancel()  # skips it if it has not started
            raise StoreUnavailable(
                f"{self.what} did not answer within {self.timeout:g} s (INTERLOCK_STORE_TIMEOUT)"
            )
        return await future

    def _run(self, ticket: _Ticket, fn: Callable[[], T]) -> T:
        if ticket.abandoned:
            raise Abandoned
        self._ticket = ticket
        result = fn()
        ticket.finish()
        return result

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
        future = asyncio.get_running_loop().run_in_executor(self._executor, fn)
        done, _ = await asyncio.wait({future}, timeout=self.timeout)
        if done:
            await future
        else:
            log.warning("%s is busy; it closes when the running call ends", self.what)
        self._executor.shutdown(wait=bool(done))
