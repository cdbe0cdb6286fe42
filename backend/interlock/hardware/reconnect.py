"""Reconnecting a controller link in the background, with exponential backoff.

A plug-in that notices its link is gone (a call timed out, a socket closed, a monitor
reported a disconnect) marks itself disconnected and calls :meth:`Reconnector.trigger`. A
daemon thread then calls the plug-in's ``attempt`` function after ``initial`` seconds, then
after twice that, up to ``maximum`` between tries, until one attempt succeeds; then it waits
for the next trigger. :meth:`Reconnector.close` ends the thread at once (also mid-wait).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, Field

log = logging.getLogger("interlock.hardware")


class BackoffOptions(BaseModel):
    """Reconnect timing, for plug-ins to embed in their ``Options`` (``reconnect``)."""

    initial: float = Field(default=0.1, gt=0, description="Seconds before the first retry.")
    factor: float = Field(default=2.0, ge=1, description="Each wait is this times the last.")
    maximum: float = Field(default=5.0, gt=0, description="Longest wait between retries (s).")


@dataclass(frozen=True)
class Backoff:
    """The waits between reconnect attempts: ``initial``, ``initial * factor``, ... capped
    at ``maximum``."""

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 5.0

    @classmethod
    def of(cls, options: BackoffOptions) -> Backoff:
        return cls(options.initial, options.factor, options.maximum)

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield min(delay, self.maximum)
            delay = min(delay * self.factor, self.maximum)


class Reconnector:
    """Calls ``attempt()`` with backoff after each :meth:`trigger` until it returns True.

    ``attempt`` runs on the reconnector's own daemon thread; an exception counts as a
    failed attempt (logged at debug level). ``attempts`` counts every call, for tests and
    logs. Thread-safe: :meth:`trigger` and :meth:`close` may be called from any thread,
    repeatedly.
    """

    def __init__(
        self, name: str, attempt: Callable[[], bool], backoff: Backoff | None = None
    ) -> None:
        self.name = name
        self.backoff = backoff or Backoff()
        self.attempts = 0
        self._attempt = attempt
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def trigger(self) -> None:
        """Start reconnecting (no-op while already at it, or after :meth:`close`)."""
        with self._lock:
            if self._closed.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"interlock-reconnect-{self.name}", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def close(self) -> None:
        """Stop retrying and end the thread (waits for an attempt in progress)."""
        with self._lock:
            self._closed.set()
            self._wake.set()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._closed.is_set():
                return
            self._wake.clear()
            for delay in self.backoff.delays():
                if self._closed.wait(delay):
                    return
                self.attempts += 1
                try:
                    if self._attempt():
                        log.info("controller %s: reconnected", self.name)
                        break
                except Exception as exc:
                    log.debug("controller %s: reconnect attempt failed: %s", self.name, exc)
