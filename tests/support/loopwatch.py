"""Catching a blocked event loop: asyncio's slow-callback reports, collected per server.

Every test server runs its loop under ``interlock.loopwatch.watch_loop``: asyncio's debug
mode with a 0.1 s slow-callback threshold. asyncio then logs, on the loop's own thread,
``Executing <Handle ...> took 0.123 seconds`` as a warning for every callback that held the
loop that long by itself: a file read, a thread join or a controller call made on the loop
instead of in a worker thread (time spent waiting for a CPU on a busy machine is not
counted; ``watch_loop`` says why). A server that reported one fails its test when it stops:

* in-process servers (``run_server``): ``SlowCallbacks`` is a logging handler that keeps the
  reports made on one thread;
* subprocesses (``ServerProcess``): ``INTERLOCK_DEBUG_LOOP=1`` turns the same mode on in
  ``interlock serve``, and ``slow_callback_reports`` finds the reports in its log.
"""

from __future__ import annotations

import json
import logging
import re
import threading

#: asyncio's report of a callback that held the loop (``asyncio.base_events``).
_REPORT = re.compile(r"^.*WARNING asyncio: Executing .* took \d+\.\d+ seconds.*$", re.MULTILINE)
_JSON_REPORT = re.compile(r"^Executing .* took \d+\.\d+ seconds")
ASYNCIO = logging.getLogger("asyncio")


class SlowCallbacks(logging.Handler):
    """Keeps asyncio's slow-callback reports logged on one thread (one server's loop).

    Attach it with ``install`` from that thread before the loop runs; ``remove`` when the
    loop has stopped. Reports from other threads (other servers, the test's own loop) are
    not this server's and are ignored."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.thread: int | None = None
        self.reports: list[str] = []

    def install(self) -> None:
        self.thread = threading.get_ident()
        ASYNCIO.addHandler(self)

    def remove(self) -> None:
        ASYNCIO.removeHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread and str(record.msg).startswith("Executing "):
            self.reports.append(record.getMessage())


def slow_callback_reports(log: str) -> list[str]:
    """The slow-callback reports in a server's log text (lines, or JSON lines)."""
    reports = [line.strip() for line in _REPORT.findall(log)]
    for line in log.splitlines():
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message = str(record.get("message", ""))
        if record.get("logger") == "asyncio" and _JSON_REPORT.match(message):
            reports.append(message)
    return reports


def blocked_loop_error(what: str, reports: list[str]) -> AssertionError:
    """The failure for a server whose loop was held: every report, one per line."""
    lines = "\n".join(f"  {r}" for r in reports)
    return AssertionError(
        f"{what} blocked its event loop ({len(reports)} slow callback report(s); anything "
        f"that blocks belongs in a thread, e.g. asyncio.to_thread):\n{lines}"
    )
