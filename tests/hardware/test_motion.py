"""The async motion helpers against the real simulator: waits, cancels, stops and scans."""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from interlock.hardware import (
    HardwareError,
    MotionCancelled,
    MotionTimeout,
    SignalModel,
    SimulatedController,
    SoftLimitError,
    halt_axes,
    move_and_wait,
    scan,
    stop_axes,
)
from interlock.hardware.peak import peak_position

# Fast enough that a stop takes about a millisecond, so tests wait on logic, not physics.
FAST = 1_000_000.0


class StopRecordingController(SimulatedController):
    """The simulator, noting when each stop command arrives."""

    def __init__(self) -> None:
        super().__init__(acceleration=FAST)
        self.stops: list[float] = []

    def stop(self, axis: str) -> None:
        self.stops.append(time.perf_counter())
        super().stop(axis)


def setter(event: asyncio.Event) -> Callable[[float, float], None]:
    """A progress callback that only says "the move has started"."""
    return lambda position, fraction: event.set()


async def test_move_and_wait_returns_the_final_position() -> None:
    stage = SimulatedController(acceleration=FAST)
    never = threading.Event()
    to_50 = await move_and_wait(
        stage, "x", mode="absolute", value=50.0, speed=10_000.0, cancel=never
    )
    back_20 = await move_and_wait(
        stage, "x", mode="relative", value=-20.0, speed=10_000.0, cancel=never
    )
    assert (to_50, back_20) == (50.0, 30.0)
    assert not stage.is_moving("x")


async def test_progress_arrives_on_the_loop_thread_before_the_move_returns() -> None:
    stage = SimulatedController()
    reports: list[tuple[int, float, float]] = []

    def on_progress(position: float, fraction: float) -> None:
        reports.append((threading.get_ident(), position, fraction))

    final = await move_and_wait(
        stage,
        "x",
        mode="relative",
        value=200.0,
        speed=2_000.0,
        cancel=threading.Event(),
        on_progress=on_progress,
    )
    assert len(reports) > 3
    assert {ident for ident, _, _ in reports} == {threading.get_ident()}
    fractions = [fraction for _, _, fraction in reports]
    assert fractions == sorted(fractions)
    assert reports[-1][1:] == (final, 1.0)


async def test_cancel_commands_the_stop_every_time() -> None:
    """How soon the stop follows the cancel is measured by bench/stop_latency.py."""
    stage = StopRecordingController()
    for _ in range(50):
        cancel, moving = threading.Event(), asyncio.Event()
        move = asyncio.create_task(
            move_and_wait(
                stage,
                "x",
                mode="relative",
                value=100.0,
                speed=100.0,
                cancel=cancel,
                on_progress=setter(moving),
            )
        )
        await moving.wait()
        cancelled_at = time.perf_counter()
        cancel.set()
        with pytest.raises(MotionCancelled) as caught:
            await move
        assert stage.stops and stage.stops[-1] >= cancelled_at, "no stop after the cancel"
        assert not stage.is_moving("x")
        assert caught.value.position == stage.position("x")


async def test_cancel_set_before_the_move_never_starts_it() -> None:
    stage = StopRecordingController()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(MotionCancelled):
        await move_and_wait(stage, "x", mode="absolute", value=10.0, speed=1.0, cancel=cancel)
    assert stage.position("x") == 0.0
    assert stage.stops == []


async def test_cancel_with_a_failing_stop_is_a_hardware_error_not_a_cancellation() -> None:
    stage = SimulatedController(acceleration=FAST, fail_stop_on={"x"})
    cancel, moving = threading.Event(), asyncio.Event()
    move = asyncio.create_task(  # 10 s long: still moving however late the cancel comes
        move_and_wait(
            stage,
            "x",
            mode="relative",
            value=10_000.0,
            speed=1_000.0,
            cancel=cancel,
            on_progress=setter(moving),
        )
    )
    await moving.wait()
    cancel.set()
    with pytest.raises(HardwareError) as caught:
        await move
    assert not isinstance(caught.value, MotionCancelled)
    assert stage.is_moving("x")


async def test_timeout_stops_the_axis_and_raises_motion_timeout() -> None:
    stage = SimulatedController(acceleration=FAST)
    with pytest.raises(MotionTimeout) as caught:
        await move_and_wait(
            stage,
            "x",
            mode="absolute",
            value=1_000.0,
            speed=1_000.0,
            cancel=threading.Event(),
            timeout=0.05,
        )
    assert not stage.is_moving("x")
    assert 0 < caught.value.position == stage.position("x") < 1_000.0


async def test_cancelling_the_awaiting_task_stops_the_axis_first() -> None:
    stage = StopRecordingController()
    moving = asyncio.Event()
    move = asyncio.create_task(
        move_and_wait(
            stage,
            "x",
            mode="relative",
            value=100.0,
            speed=100.0,
            cancel=threading.Event(),
            on_progress=setter(moving),
        )
    )
    await moving.wait()
    move.cancel()
    with pytest.raises(asyncio.CancelledError):
        await move
    assert len(stage.stops) == 1
    assert not stage.is_moving("x")


async def test_cancelling_a_move_whose_watcher_waits_for_a_thread_returns_at_once() -> None:
    """Every thread of the default executor is busy: the watcher is queued. Cancelling does
    not wait for a thread to free up, and the watcher, when it finally runs, moves nothing."""
    stage = StopRecordingController()
    gate = threading.Event()
    loop = asyncio.get_running_loop()
    executor = ThreadPoolExecutor(max_workers=1)
    loop.set_default_executor(executor)
    try:
        blocker = asyncio.ensure_future(asyncio.to_thread(gate.wait))
        move = asyncio.create_task(
            move_and_wait(
                stage, "x", mode="absolute", value=100.0, speed=100.0, cancel=threading.Event()
            )
        )
        for _ in range(2):  # the move starts, then its watcher is submitted (and queued)
            await asyncio.sleep(0)
        move.cancel()
        done, _ = await asyncio.wait([move], timeout=5)
        assert done == {move} and move.cancelled()
        assert not gate.is_set()
        gate.set()
        await blocker
        await asyncio.to_thread(lambda: None)  # the single worker has run the watcher by now
    finally:
        gate.set()
        executor.shutdown(wait=True)
    assert stage.position("x") == 0.0 and stage.stops == [] and not stage.is_moving("x")


async def test_soft_limit_errors_reach_the_caller_with_nothing_moved() -> None:
    stage = SimulatedController()
    with pytest.raises(SoftLimitError):
        await move_and_wait(
            stage, "z", mode="absolute", value=-5.0, speed=1.0, cancel=threading.Event()
        )
    assert not stage.is_moving("z")


def test_stop_axes_stops_the_others_when_one_stop_fails() -> None:
    stage = SimulatedController(acceleration=FAST, fail_stop_on={"y"})
    for axis in ("x", "y", "z"):
        stage.move_relative(axis, 100.0, 10.0)
    errors = stop_axes(stage, ["x", "y", "z"])
    assert [(axis, type(error)) for axis, error in errors] == [("y", HardwareError)]
    time.sleep(0.01)
    assert stage.status()["x"]["moving"] is False
    assert stage.status()["z"]["moving"] is False
    assert stage.status()["y"]["moving"] is True


def test_halt_axes_waits_for_rest_and_reports_what_would_not_stop() -> None:
    stage = SimulatedController(acceleration=2_000.0, fail_stop_on={"x"})
    for axis in ("x", "y", "z"):
        stage.move_relative(axis, 100.0, 50.0)
    time.sleep(0.02)
    halted = halt_axes(stage, ["x", "y", "z"], stop_timeout=1.0)
    assert [(axis, type(error)) for axis, error in halted.errors] == [("x", HardwareError)]
    assert list(halted.positions) == ["y", "z"]
    assert not stage.is_moving("y") and halted.positions["y"] == stage.position("y") < 100.0
    assert stage.is_moving("x")


def test_halt_axes_reports_an_axis_that_does_not_come_to_rest() -> None:
    stage = SimulatedController(acceleration=100.0)
    stage.move_relative("x", 1_000.0, 50.0)
    time.sleep(0.05)  # 5 um/s by now: the stop takes another 50 ms
    halted = halt_axes(stage, ["x"], stop_timeout=0.01)
    assert halted.positions == {}
    ((axis, error),) = halted.errors
    assert axis == "x" and "still moving 0.01 s after stop" in str(error)


async def test_scan_finds_the_signal_peak() -> None:
    signal = SignalModel(center={"x": 120.0}, width={"x": 30.0}, noise=0.005)
    stage = SimulatedController(acceleration=FAST, signal=signal, seed=3)
    points: list[tuple[int, float, float]] = []
    xs, ys = await scan(
        stage,
        "x",
        0.0,
        240.0,
        25,
        10_000.0,
        threading.Event(),
        lambda x, y: points.append((threading.get_ident(), x, y)),
    )
    assert xs == pytest.approx([10.0 * i for i in range(25)])
    assert xs[ys.index(max(ys))] == pytest.approx(120.0, abs=10.0)
    assert [(x, y) for _, x, y in points] == list(zip(xs, ys, strict=True))
    assert {ident for ident, _, _ in points} == {threading.get_ident()}


async def test_scan_stops_when_cancelled() -> None:
    stage = SimulatedController(acceleration=FAST)
    cancel = threading.Event()

    def cancel_after_three(x: float, y: float) -> None:
        if x >= 20.0:
            cancel.set()

    with pytest.raises(MotionCancelled):
        await scan(stage, "x", 0.0, 100.0, 11, 10_000.0, cancel, cancel_after_three)
    assert stage.position("x") == 20.0


def test_peak_position_fits_between_the_samples_and_falls_back_to_the_best_one() -> None:
    xs = [float(x) for x in range(0, 101, 10)]
    gaussian = [math.exp(-(((x - 43.0) / 15.0) ** 2) / 2) for x in xs]
    assert peak_position(xs, gaussian) == pytest.approx(43.0)
    assert peak_position(xs, [x / 100 for x in xs]) == 100.0  # rising: no peak inside
    assert peak_position(xs, [0.0] * len(xs)) == 0.0
