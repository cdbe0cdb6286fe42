"""Start-up work done in a worker thread, so that the first requests do not do it on the loop.

Libraries leave some work to its first use, and the first use is a request handled on the
event loop. Where that work reads files, every connection (and a stop command sent over a
WebSocket) waits for the disk. ``warm_up`` does it once, in a thread, before the server
accepts connections:

* anyio imports its parts on first use (worker threads, file I/O, task groups: Starlette's
  thread pool and ``FileResponse`` use them), so one use of each imports them here;
* ``mimetypes`` reads the system's type tables on its first guess (every ``FileResponse``);
* FastAPI reads an endpoint's source file on its first request (for its error messages):
  the source of Interlock's modules is read into ``linecache`` here;
* with ``debug_loop`` the source of every loaded module too: in asyncio's debug mode every
  future records where it was created, reading the source of each frame on the loop.

All of it is process-wide, so :func:`warm_up_once` does it once per process, when the app is
built, before any event loop serves it. (Not in a thread beside a serving loop: reading and
importing hold the GIL in long stretches and would stall the loop just the same.)
"""

from __future__ import annotations

import linecache
import mimetypes
import os
import sys
import threading

import anyio


async def _use_anyio() -> None:
    async with await anyio.open_file(os.devnull, "rb") as file:
        await file.read(1)
    await anyio.to_thread.run_sync(int)
    async with anyio.create_task_group() as group:
        group.start_soon(anyio.sleep, 0)


def load_sources(prefix: str = "") -> int:
    """Read the source of every loaded module whose name starts with ``prefix`` into
    ``linecache``; returns how many files were read."""
    count = 0
    for name, module in list(sys.modules.items()):
        filename = getattr(module, "__file__", None)
        if name.startswith(prefix) and filename and filename.endswith(".py"):
            linecache.getlines(filename, module.__dict__)
            count += 1
    return count


def warm_up(*, debug_loop: bool = False) -> None:
    """Do now, on this (worker) thread, what the first requests would do on the loop."""
    mimetypes.init()
    anyio.run(_use_anyio)
    load_sources("" if debug_loop else "interlock")


_done: set[bool] = set()
_lock = threading.Lock()


def warm_up_once(*, debug_loop: bool = False) -> None:
    """:func:`warm_up`, once per process (and once more for ``debug_loop``). Runs it in a
    thread of its own and waits: ``anyio.run`` needs a thread without a running loop."""
    with _lock:
        if debug_loop in _done:
            return
        worker = threading.Thread(target=warm_up, kwargs={"debug_loop": debug_loop})
        worker.start()
        worker.join()
        _done.add(debug_loop)
