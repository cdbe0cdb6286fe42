"""Running the app under uvicorn, with signals that stop the hardware first.

uvicorn's own handling of SIGTERM/SIGINT waits for open connections (a stalled request, a tab
that stopped reading) before the app hears of the shutdown: axes would keep moving for the
whole graceful timeout. ``InterlockServer`` adds three things:

1. **At the signal**, before anything else: every axis is commanded to stop, from a thread
   of its own (nothing queued in front of it, and no dependence on the event loop being
   free), after each running task's cancel flag is set so no new move can start; the tasks
   themselves are cancelled on the loop right after.
2. **A bounded shutdown**: the graceful part (connections, then the app's shutdown) shares one
   deadline, ``INTERLOCK_SHUTDOWN_TIMEOUT`` after the signal; a watchdog ends the process if
   anything (a stuck store, a blocked worker thread) holds it up past that.
3. **A second SIGINT** halts the axes again and exits within a second, whatever is running.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Generator
from types import FrameType
from typing import Any

import uvicorn
from fastapi import FastAPI

from . import datadir, logs
from .controller_config import ControllerConfigError
from .exceptions import DataDirError
from .hardware import HardwareError
from .hosts import is_loopback
from .loopwatch import SLOW_CALLBACK, watch_loop
from .notify import InvalidNotifyURL
from .settings import Settings
from .states import SHUTDOWN_REASON
from .warmup import load_sources
from .wire import is_fast_path, websocket_protocol

log = logging.getLogger("interlock.server")

#: Exit status when the watchdog ends a shutdown that overran its deadline.
EXIT_SHUTDOWN_OVERRUN = 1
#: Exit status after a second SIGINT (as a shell reports an interrupted program).
EXIT_FORCED = 128 + signal.SIGINT
#: Seconds the second SIGINT gives the stop commands before the process exits.
FORCE_GRACE = 0.5
#: Extra seconds the watchdog allows past the shutdown deadline (the axes' final halt).
WATCHDOG_MARGIN = 2.0
#: Why ``serve`` will not listen beyond this machine with authentication off.
NO_AUTH_REFUSAL = (
    "refusing to listen on {host} without authentication: set INTERLOCK_AUTH=true "
    "(or INTERLOCK_ALLOW_NO_AUTH=true to accept the risk)"
)
#: The line logged for each bound socket once the server accepts connections (also with
#: ``--port 0``: it names the port the system chose). Programs may read it.
LISTENING = "Interlock listening on %s"


class InterlockServer(uvicorn.Server):
    """A uvicorn server whose signals stop the hardware at once; see the module docstring."""

    def __init__(self, config: uvicorn.Config, app: FastAPI, settings: Settings) -> None:
        super().__init__(config)
        self.app = app
        self.settings = settings
        self.loop: asyncio.AbstractEventLoop | None = None
        # Python may run a second signal's handler inside the first one's: count them with
        # one atomic call instead of reading and then setting a flag.
        self._signals = itertools.count()
        # uvicorn loads its config (importing its protocol modules) when serving starts, on
        # the loop: do it now. In debug mode asyncio reads the source of every frame that
        # creates a future, so the new modules' source is read now too (see interlock.warmup).
        if not config.loaded:
            config.load()
        if settings.debug_loop:
            load_sources()

    async def serve(self, sockets: list[Any] | None = None) -> None:
        self.loop = asyncio.get_running_loop()
        if self.settings.debug_loop:
            watch_loop(self.loop)
            log.warning(
                "INTERLOCK_DEBUG_LOOP: asyncio debug mode on; callbacks holding the event loop "
                "%g s or more are reported",
                SLOW_CALLBACK,
            )
        try:
            await super().serve(sockets)
        finally:
            # Done serving: the loop's own teardown (joining its worker threads) holds no
            # connection, so it is not reported.
            self.loop.set_debug(False)

    async def startup(self, sockets: list[Any] | None = None) -> None:
        await super().startup(sockets)
        for server in self.servers:
            for sock in server.sockets:
                host, port = sock.getsockname()[:2]
                log.info(LISTENING, f"http://{f'[{host}]' if ':' in host else host}:{port}")

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Unlike uvicorn, keep the handlers until the process is gone: the loop's own
        # clean-up (cancelling tasks, joining worker threads) can still hang, and a second
        # SIGINT must then still halt the axes and exit. Nothing is re-raised afterwards.
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self.handle_exit)
        yield

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if next(self._signals) == 0:
            self.begin_shutdown(signal.Signals(sig).name)
        elif sig == signal.SIGINT:
            self.force_stop()
        super().handle_exit(sig, frame)

    def begin_shutdown(self, cause: str) -> None:
        """Stop every axis now, cancel every task, and bound the rest of the shutdown."""
        deadline = time.monotonic() + self.settings.shutdown_timeout
        self.app.state.shutdown_deadline = deadline
        manager = self.app.state.manager
        if self.loop is not None:
            # Queued before the stop thread starts, so tasks learn the reason (shutdown)
            # before any move watcher reports its axis stopped.
            self.loop.call_soon_threadsafe(manager.cancel_all, SHUTDOWN_REASON)
        self.app.state.supervisor.stop_everything(cause)
        _Watchdog(deadline + WATCHDOG_MARGIN, cause).start()

    def force_stop(self) -> None:
        """Second SIGINT: stop every axis again and leave within a second, no cleanup."""
        stopper = self.app.state.supervisor.stop_everything("second SIGINT")
        stopper.join(FORCE_GRACE)
        log.error("second SIGINT: axes halted, exiting without a graceful shutdown")
        _exit(EXIT_FORCED)

    async def shutdown(self, sockets: list[Any] | None = None) -> None:
        # Open connections may only use what is left of the one shutdown deadline.
        deadline = getattr(self.app.state, "shutdown_deadline", None)
        if deadline is not None:
            self.config.timeout_graceful_shutdown = max(0.1, (deadline - time.monotonic()) / 2)
        await super().shutdown(sockets)


class _Watchdog(threading.Thread):
    """Ends the process if the shutdown is still going at ``deadline``."""

    def __init__(self, deadline: float, cause: str) -> None:
        super().__init__(name="interlock-shutdown-watchdog", daemon=True)
        self.deadline = deadline
        self.cause = cause

    def run(self) -> None:
        time.sleep(max(0.0, self.deadline - time.monotonic()))
        log.error(
            "shutdown after %s did not finish in time (a stuck store or worker thread?); "
            "exiting now",
            self.cause,
        )
        _exit(EXIT_SHUTDOWN_OVERRUN)


def _exit(code: int) -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def uvicorn_config(app: FastAPI, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn's configuration for Interlock (also used by the test servers)."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level,
        "ws_max_size": settings.ws_max_message_bytes,
        "ws": websocket_protocol(),
        "timeout_graceful_shutdown": settings.shutdown_timeout,
        **logs.uvicorn_options(settings),
        **overrides,
    }
    return uvicorn.Config(app, **options)


def serve(settings: Settings, *, api: bool = True) -> None:
    """Hold the data directory, check it, then build the app and serve it until a signal
    stops it. A directory another server holds, or one that fails the start-up checks,
    ends the process at once with status 1 and one line on stderr (``DataDirError``), as
    does a non-loopback ``host`` without authentication (:data:`NO_AUTH_REFUSAL`), and a
    controller that cannot be built (bad options: their field errors; no connection).

    ``api=False``: ``interlock worker`` (``create_app``'s ``api``)."""
    from .app import UnknownTaskTypes, create_app

    logs.configure(settings)
    if not (settings.auth or is_loopback(settings.host)):
        if not settings.allow_no_auth:
            raise SystemExit(NO_AUTH_REFUSAL.format(host=settings.host))
        log.warning(
            "listening on %s without authentication (INTERLOCK_ALLOW_NO_AUTH)", settings.host
        )
    try:
        lock = datadir.hold(settings.data_dir, settings.database_path)
    except DataDirError as exc:
        raise SystemExit(str(exc)) from None
    try:
        try:
            app = create_app(settings, api=api)
        except (ControllerConfigError, HardwareError) as exc:
            # Bad controller options (the field errors) or a controller that cannot connect.
            raise SystemExit(f"interlock: cannot start: {exc}") from None
        except InvalidNotifyURL as exc:
            raise SystemExit(str(exc)) from None
        except UnknownTaskTypes as exc:
            raise SystemExit(f"interlock: cannot start: {exc}") from None
        protocol = websocket_protocol()
        app.state.ws_fast_path = is_fast_path(protocol)
        log.info("WebSocket fast path: %s", "on" if app.state.ws_fast_path else "off")
        config = uvicorn_config(app, settings, ws=protocol)
        InterlockServer(config, app, settings).run()
    finally:
        lock.release()
