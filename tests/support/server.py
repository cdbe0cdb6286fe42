"""A real Interlock server on a free loopback port, run by uvicorn in a thread.

Its event loop runs in asyncio debug mode with a 0.1 s slow-callback threshold; a server
whose loop was held that long fails the test when it stops (see ``tests.support.loopwatch``).
"""

from __future__ import annotations

import asyncio
import io
import socket
import sys
import threading
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from interlock.app import create_app
from interlock.loopwatch import watch_loop
from interlock.manager import SessionManager
from interlock.server import InterlockServer, uvicorn_config
from interlock.settings import Settings
from interlock.store import Store
from interlock.tasks import TaskRegistry
from interlock.wire import is_fast_path, websocket_protocol
from tests.support.loopwatch import SlowCallbacks, blocked_loop_error
from tests.support.redis import ON_REDIS, delete_prefix, new_prefix


@dataclass
class LiveServer:
    """A running server: its base URLs and its app (for white-box checks)."""

    host: str
    port: int
    app: FastAPI
    settings: Settings
    server: uvicorn.Server
    loop: asyncio.AbstractEventLoop

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def manager(self) -> SessionManager:
        manager: SessionManager = self.app.state.manager
        return manager

    def call(self, fn: Any, *args: Any) -> Any:
        """Run ``fn(*args)`` on the server's loop thread and return its result."""
        done = threading.Event()
        out: list[Any] = []

        def run() -> None:
            out.append(fn(*args))
            done.set()

        self.loop.call_soon_threadsafe(run)
        assert done.wait(5), "server loop did not run the call"
        return out[0]


def free_socket(host: str = "127.0.0.1") -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets of a listening
    # socket it knows is TCP; with proto 0 small replies would wait ~40 ms for delayed ACKs.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@contextmanager
def run_server(
    data_dir: Path,
    *,
    registry: TaskRegistry | None = None,
    services: dict[str, Any] | None = None,
    store: Store | None = None,
    ws: Any = None,
    static_dir: Path | None = None,
    debug_loop: bool = True,
    **overrides: Any,
) -> Iterator[LiveServer]:
    """Start a server in a thread; stop it (gracefully) when the block ends.

    With ``debug_loop`` (the default; benchmarks turn it off) the loop runs in asyncio debug
    mode and the block fails at its end if a callback held the loop 0.1 s or more.

    Inside ``tests.support.redis.servers_on_redis`` the server keeps its sessions in Redis,
    under a prefix of its own deleted when it stops (unless the test chose a store)."""
    own_prefix = None
    if ON_REDIS and store is None and "redis_url" not in overrides:
        own_prefix = new_prefix()
        overrides.update(redis_url=ON_REDIS[-1], redis_prefix=own_prefix)
    try:
        with _run_server(
            data_dir,
            registry=registry,
            services=services,
            store=store,
            ws=ws,
            static_dir=static_dir,
            debug_loop=debug_loop,
            **overrides,
        ) as live:
            yield live
    finally:
        if own_prefix is not None:
            delete_prefix(own_prefix, ON_REDIS[-1] if ON_REDIS else overrides["redis_url"])


def _where(thread: threading.Thread, loop: asyncio.AbstractEventLoop) -> str:
    """Where a server that does not stop is stuck: its thread's stack and its loop's tasks
    (read from this thread: a diagnosis, not a synchronised view)."""
    frame = sys._current_frames().get(thread.ident or 0)
    lines = ["thread:\n", *traceback.format_stack(frame)] if frame else []
    for task in list(asyncio.all_tasks(loop)):
        out = io.StringIO()
        task.print_stack(file=out)
        lines.append(out.getvalue())
    return "".join(lines)


@contextmanager
def _run_server(
    data_dir: Path,
    *,
    registry: TaskRegistry | None,
    services: dict[str, Any] | None,
    store: Store | None,
    ws: Any,
    static_dir: Path | None,
    debug_loop: bool,
    **overrides: Any,
) -> Iterator[LiveServer]:
    sock = free_socket()
    host, port = sock.getsockname()
    settings = Settings(host=host, port=port, data_dir=data_dir, debug_loop=debug_loop, **overrides)
    app = create_app(
        settings, registry=registry, services=services, store=store, static_dir=static_dir
    )
    ws = ws or websocket_protocol()
    app.state.ws_fast_path = is_fast_path(ws)
    config = uvicorn_config(
        app, settings, log_level="warning", ws=ws, lifespan="on", timeout_graceful_shutdown=5
    )
    server = InterlockServer(config, app, settings)
    slow = SlowCallbacks()
    loop_box: list[asyncio.AbstractEventLoop] = []
    errors: list[BaseException] = []

    def target() -> None:
        loop = asyncio.new_event_loop()
        if debug_loop:
            watch_loop(loop)
            slow.install()
        loop_box.append(loop)
        try:
            loop.run_until_complete(server.serve(sockets=[sock]))
        except BaseException as exc:  # surfaced in the test thread
            errors.append(exc)
        finally:
            loop.close()
            slow.remove()

    thread = threading.Thread(target=target, name=f"interlock-test-{port}", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            sock.close()
            raise RuntimeError(f"server failed to start: {errors}")
        thread.join(0.01)
    try:
        yield LiveServer(host, port, app, settings, server, loop_box[0])
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
        assert not thread.is_alive(), f"server did not stop:\n{_where(thread, loop_box[0])}"
        if errors:
            raise errors[0]
    # Only when the test itself passed: its own failure says more.
    if slow.reports:
        raise blocked_loop_error(f"the test server on port {port}", slow.reports)
