"""Stops run on their own executor: never queued behind move watchers or blocking task work."""

from __future__ import annotations

import asyncio
import concurrent.futures.thread
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.hardware import STOPPER, SimulatedController, StopExecutor, run_stop, submit_stop
from interlock.hardware.resources import axis_resources
from interlock.hardware.stopping import STOP_WORKERS
from interlock.runtime import TaskContext
from interlock.stage import Stage
from interlock.tasks import TaskRegistry
from tests.hardware.support import RecordingController, answer, submit, until_moving
from tests.support.server import run_server
from tests.support.ws import WS

#: More blocking calls than the default executor can ever have threads (at most 32).
SATURATION = 40


@contextmanager
def stop_workers_held() -> Iterator[threading.Event]:
    """Every worker of the stop executor busy until the yielded event is set (on exit)."""
    release, busy = threading.Event(), threading.Semaphore(0)

    def hold() -> None:
        busy.release()
        release.wait()

    held = [STOPPER.submit(hold) for _ in range(STOP_WORKERS)]
    try:
        for _ in held:
            assert busy.acquire(timeout=5), "a stop worker did not pick up its work"
        yield release
    finally:
        release.set()
        for future in held:
            future.result(timeout=5)


def still(stage: SimulatedController, axis: str) -> None:
    """Wait (at most 5 s) until a stopped ``axis`` has decelerated to rest."""
    deadline = time.monotonic() + 5
    while stage.is_moving(axis):
        assert time.monotonic() < deadline, f"{axis} still moving"
        time.sleep(0.001)


def test_submit_stop_returns_a_future_at_once_and_the_stop_follows() -> None:
    stage = SimulatedController(acceleration=1_000_000.0)
    stage.move_absolute("x", 5_000.0, 1_000.0)
    with stop_workers_held():
        future = submit_stop(stage, ["x"])  # would block here if it waited for the stop
        assert not future.done() and stage.is_moving("x")
    assert future.result(timeout=5) == []
    still(stage, "x")
    assert stage.position("x") < 5_000.0


def test_submit_stop_works_from_a_signal_handler_that_interrupted_another_submit() -> None:
    """A ThreadPoolExecutor's submit takes a lock every ThreadPoolExecutor shares; a signal
    handler that interrupted the main thread while it held it (inside any ``to_thread``)
    would deadlock on it. The stop executor takes no such lock."""
    stage = SimulatedController(acceleration=1_000_000.0)
    stage.move_absolute("y", 5_000.0, 1_000.0)
    futures: list[Future[Any]] = []
    previous = signal.signal(signal.SIGUSR1, lambda *_: futures.append(submit_stop(stage, ["y"])))
    try:
        with concurrent.futures.thread._global_shutdown_lock:
            signal.raise_signal(signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    (future,) = futures
    assert future.result(timeout=5) == []
    still(stage, "y")
    assert stage.position("y") < 5_000.0


async def test_a_cancelled_caller_does_not_cancel_its_stop() -> None:
    stage = SimulatedController(acceleration=1_000_000.0)
    stage.move_absolute("z", 4_000.0, 1_000.0)
    stopped = threading.Event()

    def stop_z() -> None:
        stage.stop("z")
        stopped.set()

    with stop_workers_held():
        caller = asyncio.create_task(run_stop(stop_z))
        await asyncio.sleep(0)  # submitted, queued behind the held workers
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
    assert await asyncio.to_thread(stopped.wait, 5)
    assert stage.position("z") < 4_000.0


def test_a_stop_executor_runs_work_in_order_and_shuts_down() -> None:
    executor = StopExecutor(workers=1, name="test-stop")
    order: list[int] = []
    futures = [executor.submit(order.append, i) for i in range(5)]
    executor.shutdown(wait=True)
    assert [f.result() for f in futures] == [None] * 5 and order == [0, 1, 2, 3, 4]
    with pytest.raises(RuntimeError, match="shut down"):
        executor.submit(order.append, 5)
    failing = StopExecutor(workers=1)
    future = failing.submit(lambda: 1 / 0)
    failing.shutdown()
    assert isinstance(future.exception(), ZeroDivisionError)


# ------------------------------------------------------------------- a busy default executor


def saturating_registry(gate: threading.Event) -> TaskRegistry:
    registry = TaskRegistry()

    @registry.task("move_then_saturate", resources=lambda _p: axis_resources("x"))
    async def move_then_saturate(ctx: TaskContext[Any]) -> None:
        """Moves x through a Stage, then fills the default executor with blocked calls."""
        async with Stage(ctx, confirm_timeout=30) as stage:
            mover = asyncio.ensure_future(stage.move_to("x", 9_000.0, 1_000.0))
            blockers: list[asyncio.Future[bool]] = []
            try:
                # The move watcher has its thread once the test sees x moving and says Yes.
                await ctx.confirm("Saturate the default executor?", timeout=30)
                blockers += [
                    asyncio.ensure_future(ctx.run_blocking(gate.wait)) for _ in range(SATURATION)
                ]
                await asyncio.sleep(0)  # each blocker submits its call to the executor
                await ctx.progress(1, "saturated")
                await mover
            finally:
                mover.cancel()
                for blocker in blockers:
                    blocker.cancel()

    return registry


@pytest.mark.parametrize("way", ["delete", "hardware_stop"])
async def test_stops_reach_the_controller_while_the_default_executor_is_saturated(
    tmp_path: Path, way: str
) -> None:
    """Every thread of the server's default executor waits on ``gate`` (more calls queue
    behind them) until the end of the test; the cancel still stops the axes, the software
    stop still stops an axis nobody watches, and the task still ends."""
    gate = threading.Event()
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(
        tmp_path / "data", registry=saturating_registry(gate), services={"controller": hw}
    ) as server:
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
                task_id = await submit(client, "move_then_saturate")
                async with await WS.open(server.ws_url, task_id) as ws:
                    prompt = await ws.until("request_confirmation")
                    await until_moving(ws, 0.0)
                    await answer(ws, prompt, True)
                    while (await ws.until("progress"))["message"] != "saturated":
                        pass
                    if way == "delete":
                        r = await client.delete(f"/tasks/{task_id}")
                        assert r.status_code == 200, r.text
                    else:
                        hw.move_absolute("y", 9_000.0, 1_000.0)  # moving, nobody watches it
                        r = await client.post("/hardware/stop")
                        assert r.status_code == 200, r.text
                        assert r.json()["cancelled"] == [task_id]
                        assert r.json()["stopped"] == ["x", "y", "z", "tx", "ty"]
                        assert {axis for _, axis in hw.stops} == {"x", "y", "z", "tx", "ty"}
                        await rest(hw, "y")
                        assert 0 < hw.position("y") < 9_000.0
                    end = await ws.until("task_cancelled")
                    lines = [m["content"] for m in ws.received if m["type"] == "stream"]
            assert not hw.is_moving("x") and 0 < end["position"] == hw.position("x") < 9_000.0
            assert lines == [f"Stopped x at {end['position']:g} µm."]
            assert not gate.is_set()  # all of it happened with the default executor blocked
        finally:
            gate.set()


async def rest(hw: RecordingController, axis: str) -> None:
    """Wait until ``axis`` stands still (the hardware's state: there is nothing to await)."""
    async with asyncio.timeout(5):
        while hw.is_moving(axis):
            await asyncio.sleep(0.005)
