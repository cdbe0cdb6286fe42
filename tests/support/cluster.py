"""An Interlock cluster in subprocesses: ``interlock serve --no-worker`` instances and
``interlock worker`` processes sharing one Redis prefix, each with its own data directory.

Every process runs with ``INTERLOCK_DEBUG_LOOP=1`` (a slow callback fails the test when it
stops, as with ``ServerProcess``) and loads ``tests.support.process_tasks``.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import httpx

import redis
from tests.support.process import ServerProcess
from tests.support.redis import delete_prefix
from tests.support.ws import WS

#: The line a worker logs once it takes tasks (after its listening line).
_WORKER_READY = re.compile(r"Interlock worker \S+ ready")
READY_TIMEOUT = 30.0
TASK_MODULES = "tests.support.process_tasks"


class WorkerProcess(ServerProcess):
    """``python -m interlock worker --port 0 [args]``: runs tasks, serves ``/health`` and
    ``/metrics`` only. ``start``/``ready`` return once it says it takes tasks."""

    def __init__(
        self,
        data_dir: Path,
        env: dict[str, str] | None = None,
        *,
        args: Sequence[str] = (),
        debug_loop: bool = True,
        **more_env: str,
    ) -> None:
        super().__init__(
            data_dir, 0, env, debug_loop=debug_loop, args=args, command="worker", **more_env
        )

    def ready(self) -> Self:
        super().ready()
        with self._changed:
            self._changed.wait_for(
                lambda: self._eof or _WORKER_READY.search(self.output()) is not None,
                READY_TIMEOUT,
            )
        if _WORKER_READY.search(self.output()) is None:
            self._end()
            raise RuntimeError(f"worker did not say it is ready:\n{self.output()}")
        return self


@dataclass
class Cluster:
    """The running processes; ``add_server``/``add_worker`` start more under the same prefix."""

    root: Path
    env: dict[str, str]
    servers: list[ServerProcess] = field(default_factory=list)
    workers: list[WorkerProcess] = field(default_factory=list)

    def _data_dir(self, kind: str) -> Path:
        n = len(self.servers) + len(self.workers)
        return self.root / f"{kind}-{n}"

    def add_server(self, *args: str) -> ServerProcess:
        """One more ``serve --no-worker`` instance (``args``: more flags)."""
        server = ServerProcess(self._data_dir("serve"), env=self.env, args=["--no-worker", *args])
        self.servers.append(server)
        return server.start()

    def add_worker(self, *args: str) -> WorkerProcess:
        """One more worker (``args``: ``--controller none``, ``--task-types a,b`` …)."""
        worker = WorkerProcess(self._data_dir("worker"), env=self.env, args=args)
        self.workers.append(worker)
        return worker.start()

    @property
    def processes(self) -> list[ServerProcess]:
        return [*self.workers, *self.servers]

    def stop(self) -> None:
        """SIGTERM to every process still running, then wait for each (workers first)."""
        alive = [p for p in self.processes if p.proc is not None and p.proc.poll() is None]
        for process in alive:
            process.terminate()
        errors: list[BaseException] = []
        for process in alive:
            try:
                process.stop()
            except (AssertionError, OSError, subprocess.SubprocessError) as exc:
                errors.append(exc)  # still stop the others
        if errors:
            raise errors[0]


@contextmanager
def cluster(
    tmp_path: Path,
    redis_url: str,
    prefix: str,
    instances: int = 2,
    workers: int = 1,
    *,
    worker_args: Sequence[str] = (),
    **env: str,
) -> Iterator[Cluster]:
    """``instances`` ``serve --no-worker`` and ``workers`` workers on ``redis_url`` under
    ``prefix``, started side by side; stopped (SIGTERM) and the prefix deleted afterwards.

    ``env`` adds ``INTERLOCK_*`` variables for every process (``INTERLOCK_WORKER_LEASE``)."""
    shared = {
        "INTERLOCK_REDIS_URL": redis_url,
        "INTERLOCK_REDIS_PREFIX": prefix,
        "INTERLOCK_TASK_MODULES": TASK_MODULES,
        **env,
    }
    group = Cluster(tmp_path, shared)
    for _ in range(instances):
        group.servers.append(
            ServerProcess(group._data_dir("serve"), env=shared, args=["--no-worker"])
        )
    for _ in range(workers):
        group.workers.append(WorkerProcess(group._data_dir("worker"), env=shared, args=worker_args))
    try:
        for process in group.processes:
            process.spawn()
        for process in group.processes:
            process.ready()
        yield group
    except BaseException:
        for process in group.processes:
            process._end()  # the test's own error says more than a slow stop
        with contextlib.suppress(redis.RedisError):  # nor than a Redis it left down
            delete_prefix(prefix, redis_url)
        raise
    try:
        group.stop()
    finally:
        delete_prefix(prefix, redis_url)


# ------------------------------------------------------------------------- over the wire


async def submit(
    client: httpx.AsyncClient, task_type: str, *, queue: bool = False, **parameters: Any
) -> dict[str, Any]:
    """POST /tasks, which must be accepted (202); the response body."""
    body = {"task_type": task_type, "parameters": parameters, "queue": queue}
    r = await client.post("/tasks", json=body)
    assert r.status_code == 202, r.text
    created: dict[str, Any] = r.json()
    return created


def session_messages(tab: WS) -> list[dict[str, Any]]:
    """The session's messages a tab received so far (replayed or live), in order."""
    return [m for m in tab.received if "seq" in m]


class Cursor:
    """Takes a tab's messages of each type in order, whichever wait received them: waiting
    for one type may receive the next of another."""

    def __init__(self, tab: WS) -> None:
        self.tab = tab
        self._taken: dict[str, int] = {}

    async def next(self, type_: str, timeout: float = 10) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while True:
                of_type = [m for m in self.tab.received if m["type"] == type_]
                taken = self._taken.get(type_, 0)
                if len(of_type) > taken:
                    self._taken[type_] = taken + 1
                    return of_type[taken]
                await self.tab.recv()

    async def count(self, type_: str, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Receive until the tab got ``n`` messages of ``type_`` in all; return them all."""
        async with asyncio.timeout(timeout):
            while len(of_type := [m for m in self.tab.received if m["type"] == type_]) < n:
                await self.tab.recv()
        return of_type


async def until_status(ws_url: str, task_id: str, *statuses: str) -> None:
    """Return once the task's ``status`` messages (replayed or live) reached one of
    ``statuses``."""
    async with await WS.open(ws_url, task_id) as tab:
        start, items, _ = await tab.replay()
        seen = {start["status"], *(m["status"] for m in items if m["type"] == "status")}
        if not seen & set(statuses):
            async with asyncio.timeout(10):
                while (await tab.until("status"))["status"] not in statuses:
                    pass


async def poll_task(
    client: httpx.AsyncClient, task_id: str, *statuses: str, timeout: float = 10
) -> dict[str, Any]:
    """GET /tasks/{id} until its status is one of ``statuses``: for changes no tab is told
    of at once (a lease running out on another process)."""
    async with asyncio.timeout(timeout):
        while True:
            r = await client.get(f"/tasks/{task_id}")
            assert r.status_code == 200, r.text
            task: dict[str, Any] = r.json()
            if task["status"] in statuses:
                return task
            await asyncio.sleep(0.05)


async def poll_health(client: httpx.AsyncClient, status: str, timeout: float = 20) -> None:
    """GET /health until its ``status`` is ``status`` (``ok`` or ``degraded``)."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                r = await client.get("/health")
            except httpx.TransportError:
                r = None
            code = 200 if status == "ok" else 503
            if r is not None and r.status_code == code and r.json().get("status") == status:
                return
            await asyncio.sleep(0.05)
