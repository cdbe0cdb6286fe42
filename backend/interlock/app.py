"""create_app(settings) -> FastAPI: wiring only."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from . import __version__
from .abuse import ClientCap
from .api import auth as auth_api
from .api import docs, hardware, health, logs, metrics, move, poc, tasks, uploads, ws
from .auth.registry import ConnectionRegistry
from .auth.service import AuthService, with_auth
from .auth.store import AuthStore
from .bodies import BodyGuard
from .bus import EventBus, MemoryBus, RedisBus
from .cluster.node import ClusterNode
from .controller_config import build_controller
from .datadir import guarded
from .exceptions import CapacityExceeded, QueueFull, StoreError
from .forms import error_message
from .hardware import ControllerDisconnected
from .hardware.none import NoController
from .logs import LogContext
from .manager import SessionManager
from .metrics import Metrics
from .notify import Notifier
from .presence import PresenceBoard
from .settings import Settings
from .site_guard import protect
from .static_files import STATIC_DIR, mount_console
from .store import RedisStore, SQLiteStore, Store
from .supervisor import MotionSupervisor
from .tasks import TaskRegistry, builtin_registry
from .tasks.registry import load_task_modules
from .uploads import UploadStore, UploadSweeper
from .uploads.fields import SERVICE as UPLOADS
from .warmup import warm_up_once
from .webhooks import WebhookSender

log = logging.getLogger("interlock")


class UnknownTaskTypes(ValueError):
    """``INTERLOCK_TASK_TYPES`` (``--task-types``) names a task type nobody registered."""


def _time_left(app: FastAPI, settings: Settings) -> float:
    """Seconds left of the shutdown deadline the server set at the signal, else the timeout."""
    deadline: float | None = getattr(app.state, "shutdown_deadline", None)
    if deadline is None:
        return settings.shutdown_timeout
    return max(0.0, deadline - time.monotonic())


async def _bounded(stopping: Coroutine[Any, Any, None], seconds: float) -> None:
    """Run a graceful stop, but not for longer than ``seconds``: a failing store must not
    hold the shutdown (what is not written by then is lost, as after a crash)."""
    try:
        async with asyncio.timeout(seconds):
            await stopping
    except TimeoutError:
        log.error("graceful shutdown did not finish within %.1f s; going on without it", seconds)


@dataclass
class _Outbound:
    """Who is told of the tasks' lives outside the server: people, a webhook receiver."""

    notifier: Notifier | None
    webhooks: WebhookSender | None

    @classmethod
    def install(cls, settings: Settings, manager: SessionManager) -> _Outbound:
        outbound = cls(Notifier.from_settings(settings), WebhookSender.from_settings(settings))
        for watcher in (outbound.notifier, outbound.webhooks):
            if watcher is not None:
                watcher.install(manager.lifecycle)
        return outbound

    def start(self) -> None:
        if self.webhooks is not None:
            self.webhooks.start()

    async def aclose(self, time_left: Callable[[], float]) -> None:
        if self.notifier is not None:
            await self.notifier.aclose(time_left())
        if self.webhooks is not None:
            await self.webhooks.aclose(time_left())


def create_app(
    settings: Settings | None = None,
    *,
    registry: TaskRegistry | None = None,
    store: Store | None = None,
    bus: EventBus | None = None,
    services: dict[str, Any] | None = None,
    static_dir: Path | None = None,
    auth_store: AuthStore | None = None,
    api: bool = True,
) -> FastAPI:
    """Build the application. Everything not given is made from ``settings``.

    ``api=False``: a worker (``interlock worker``): it serves ``/health`` and ``/metrics``
    only and runs tasks from the shared queue."""
    settings = settings or Settings()
    registry = _registry(settings, registry)  # before anything is connected
    owns_store = store is None
    store = store or _make_store(settings)
    bus = bus or _make_bus(settings)
    services = dict(services or {})
    owns_controller = "controller" not in services
    if owns_controller:
        # A web node of a cluster drives nothing: its workers own the controllers.
        services["controller"] = build_controller(settings) if settings.worker else NoController()
    if UPLOADS not in services:
        ttl = timedelta(hours=settings.upload_ttl_hours)
        services[UPLOADS] = UploadStore(settings.uploads_dir, ttl=ttl)
    sweeper = UploadSweeper(services[UPLOADS], store)
    manager = SessionManager(settings, store, bus, registry, services=services)
    supervisor = MotionSupervisor(
        manager,
        services["controller"],
        stop_on_disconnect=settings.stop_on_disconnect,
        grace=settings.stop_on_disconnect_grace,
        owns_controller=owns_controller,
    )
    supervisor.install()
    if isinstance(bus, RedisBus):
        manager.cluster = _node(manager, bus, supervisor, services["controller"].name)
    connections = ConnectionRegistry()
    presence = PresenceBoard(manager.watchers)
    auth = AuthService.from_settings(settings, connections, auth_store) if settings.auth else None
    # Watchers of the tasks' lives: figures for /metrics, notifications, webhook events.
    collected = Metrics(manager, connections)
    outbound = _Outbound.install(settings, manager)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with _opened(store, bus):
            outbound.start()  # before recovery: its events (interrupted tasks) go out too
            await manager.start()
            sweeper.start()
            # Everything built so far lives as long as the server. Freezing it keeps full
            # garbage collections (which pause every thread, the stop path included) short:
            # tens of milliseconds otherwise.
            gc.freeze()
            try:
                yield
            finally:
                # Shutdown (SIGINT/SIGTERM; the server already stopped every axis): cancel
                # every task, write what they said, then halt every axis and wait for rest.
                await sweeper.stop()
                presence.close()
                try:
                    await _bounded(manager.stop(), _time_left(app, settings))
                    await manager.abort()
                finally:
                    await supervisor.shutdown()
                    # What the tasks' ends said, for as long as the shutdown deadline allows.
                    await outbound.aclose(lambda: _time_left(app, settings))

    app = FastAPI(
        title="Interlock",
        version=__version__,
        description="Human-in-the-loop task sessions over WebSocket and REST.",
        # api/docs.py serves /docs and /redoc with local assets instead, and /openapi.json
        # from bytes made once (FastAPI's own route may rebuild the document on a request).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        # Its own store lives in the data directory: one server per directory.
        lifespan=guarded(with_auth(auth, lifespan), settings.data_dir, settings.database_path)
        if owns_store
        else with_auth(auth, lifespan),
    )
    app.state.settings = settings
    # With INTERLOCK_AUTH on (interlock.auth); None: everyone is auth.LOCAL.
    app.state.auth = auth
    app.state.authenticator = auth.authenticator if auth is not None else None
    app.state.connections = connections  # every open WebSocket, by credential
    app.state.client_cap = ClientCap(settings.max_connections_per_client)  # WebSockets per address
    app.state.manager = manager
    app.state.presence = presence
    app.state.supervisor = supervisor
    app.state.uploads = services[UPLOADS]
    app.state.upload_sweeper = sweeper
    app.state.metrics = collected
    app.add_middleware(BodyGuard, max_bytes=settings.max_body_bytes)
    protect(app, settings)  # Host, Origin, CORS and security headers: before everything else
    if settings.log_format == "json":
        app.add_middleware(LogContext)  # log lines of a session's requests name it

    @app.exception_handler(CapacityExceeded)
    async def _capacity(_request: Request, exc: CapacityExceeded) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": exc.detail})

    @app.exception_handler(QueueFull)
    async def _queue_full(_request: Request, exc: QueueFull) -> JSONResponse:
        return JSONResponse(status_code=429, content={"detail": exc.detail})

    @app.exception_handler(StoreError)
    async def _store(_request: Request, exc: StoreError) -> JSONResponse:
        # Nothing was taken: the client may retry once /health says ok again.
        return JSONResponse(
            status_code=503,
            content={"detail": f"Store unavailable: {exc}", "code": "store_unavailable"},
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(ControllerDisconnected)
    async def _disconnected(_request: Request, exc: ControllerDisconnected) -> JSONResponse:
        # A submission check asked the controller while its link was down: nothing was taken.
        return JSONResponse(
            status_code=503,
            content={"detail": str(exc), "code": "controller_disconnected"},
            headers={"Retry-After": "1"},
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422, with messages as people should read them (no "Value error, ").
        errors = [{**err, "msg": error_message(err)} for err in exc.errors()]
        return JSONResponse(status_code=422, content={"detail": jsonable_encoder(errors)})

    _mount(app, api, static_dir or STATIC_DIR)
    app.state.openapi_json = _openapi_document(app)
    # What libraries leave to the first request (imports, file reads): done now, before any
    # event loop serves the app.
    warm_up_once(debug_loop=settings.debug_loop)
    return app


def _registry(settings: Settings, registry: TaskRegistry | None) -> TaskRegistry:
    """The task types: the given ones, or the built-in ones and ``INTERLOCK_TASK_MODULES``'.
    Every name in ``INTERLOCK_TASK_TYPES`` must be one of them."""
    if registry is None:
        registry = builtin_registry()
        load_task_modules(registry, settings.task_modules)
    unknown = [name for name in settings.task_types if name not in registry]
    if unknown:
        raise UnknownTaskTypes(
            f"INTERLOCK_TASK_TYPES names task types nobody registered: {', '.join(unknown)} "
            f"(known: {', '.join(t.name for t in registry)})"
        )
    return registry


def _mount(app: FastAPI, api: bool, static_dir: Path) -> None:
    """Every route, or a worker's (``api=False``): ``/health`` and ``/metrics``."""
    if not api:
        for router in (health.router, metrics.router):
            app.include_router(router)
        return
    for router in (
        health.router,
        auth_api.router,
        tasks.router,
        logs.router,
        poc.router,
        hardware.router,
        move.router,
        ws.router,
        metrics.router,
        uploads.router,
        docs.router,
    ):
        app.include_router(router)
    mount_console(app, static_dir)


def _node(
    manager: SessionManager, bus: RedisBus, supervisor: MotionSupervisor, controller: str
) -> ClusterNode:
    """This process as a node of the cluster sharing the Redis prefix: a worker owns its
    controller unless it is ``none``."""
    owns = manager.settings.worker and controller != "none"
    return ClusterNode(
        manager,
        bus,
        worker=manager.settings.worker,
        controller=controller if owns else None,
        hardware=supervisor.describe if owns else None,
        stop_hardware=(lambda by: supervisor.stop_all(by=by)) if owns else None,
    )


@asynccontextmanager
async def _opened(store: Store, bus: EventBus) -> AsyncIterator[None]:
    await store.open()
    try:
        await bus.open()
        try:
            yield
        finally:
            await bus.close()
    finally:
        await store.close()


def _make_store(settings: Settings) -> Store:
    """Redis when ``INTERLOCK_REDIS_URL`` names one, else the SQLite file in the data dir."""
    if settings.redis_url:
        return RedisStore(
            settings.redis_url, prefix=settings.redis_prefix, timeout=settings.store_timeout
        )
    return SQLiteStore(
        settings.database_path, durable=settings.durable_writes, timeout=settings.store_timeout
    )


def _make_bus(settings: Settings) -> EventBus:
    if settings.redis_url:
        return RedisBus(
            settings.redis_url, prefix=settings.redis_prefix, timeout=settings.store_timeout
        )
    return MemoryBus()


_OPENAPI: dict[tuple[Any, ...], bytes] = {}


def _openapi_document(app: FastAPI) -> bytes:
    """The OpenAPI document as served, built once per process and route table before any
    loop runs: building it takes ~0.1 s of CPU (pydantic holds the GIL, so a worker thread
    would not spare the loop). It depends on the routes alone."""
    key = (
        app.title,
        app.version,
        tuple(
            (getattr(r, "path", ""), tuple(sorted(getattr(r, "methods", None) or ())))
            for r in app.routes
        ),
    )
    if key not in _OPENAPI:
        _OPENAPI[key] = json.dumps(app.openapi(), separators=(",", ":")).encode()
    return _OPENAPI[key]
