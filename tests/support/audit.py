"""A task module (``INTERLOCK_TASK_MODULES=tests.support.audit``) that makes ``interlock
serve`` say whenever its main thread, the one running the event loop, opens a file or
imports a module: ``AUDIT on the event loop: open /path`` on stderr. It adds no task."""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from interlock.tasks import TaskRegistry

MARK = "AUDIT on the event loop:"
_main = threading.main_thread().ident


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if threading.get_ident() != _main or event not in ("open", "import"):
        return
    what = args[0]
    if event == "open" and not isinstance(what, str | bytes):
        return  # an already open descriptor
    if event == "open" and str(what).startswith("/proc/"):
        return  # the kernel's counters (loopwatch weighing a report): no disk behind them
    # os.write: no buffering, and nothing here is audited in turn.
    os.write(2, f"{MARK} {event} {what!r}\n".encode(errors="replace"))


def register(registry: TaskRegistry) -> None:
    sys.addaudithook(_hook)
