"""Stop latency: how soon after an operator's cancel a moving axis is told to stop, and rests.

Runs a real Interlock server in this process (uvicorn in a thread, as the tests do) whose
controller is the simulated stage inside a recorder that timestamps every stop command. Then,
``--count`` times: submit an ``axis_movement`` of x, say Yes, wait for a progress message
showing x moving, and cancel it — round-robin by ``DELETE /tasks/{id}``, a WebSocket
``{"type": "cancel"}`` and ``POST /hardware/stop``. The cancel is timestamped by the client
just before it is sent; every timestamp is ``time.monotonic()`` in this one process.

Prints p50 / p99 / max, overall and per way, of

* cancel -> stop issued: the controller's ``stop(x)`` was called (and how many within 50 ms,
  the figure the tests once asserted; tests do not time things, this script does);
* cancel -> standstill: the server first saw x at rest after that stop (it polls every
  10 ms; the deceleration itself depends on ``--acceleration`` and the speed at the cancel);
* cancel -> task_cancelled: the client received the terminal message.

And, without a server, the same first figure for ``move_and_wait`` alone: its cancel flag set
-> ``stop(x)`` called (``--count`` / 4 moves).

With ``--controller epics`` the same cancels run again on the EPICS plug-in, through a real
Channel Access round trip to the caproto IOC of ``interlock.hardware.epics_ioc`` in a
subprocess on loopback (``interlock[epics]``): the stop is a put to the motor record's
``.STOP``, standstill is its ``.DMOV`` read back. Both figures are printed side by side.

Usage: python bench/stop_latency.py [--count 240] [--speed 2000] [--acceleration 20000]
       [--controller simulated|epics]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' helpers

from tests.hardware.support import (
    WAYS,
    CancelledMove,
    RecordingController,
    cancel_a_move,
)
from tests.support.server import LiveServer, run_server

from interlock.hardware import Controller, MotionCancelled, SimulatedController, move_and_wait

#: The stop latency the tests asserted before timing moved here.
TARGET = 0.05


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"  {label:<28} p50 {statistics.median(ms):7.2f} ms   p99 {percentile(ms, 0.99):7.2f}"
        f" ms   max {max(ms):7.2f} ms   (n={len(ms)})"
    )


def within(values: list[float]) -> str:
    ok = sum(v < TARGET for v in values)
    return f"  {'stop issued within 50 ms':<28} {ok}/{len(values)}"


class StopTimes(SimulatedController):
    """The simulator, noting when each stop command arrives."""

    def __init__(self, acceleration: float) -> None:
        super().__init__(acceleration=acceleration)
        self.stops: list[float] = []

    def stop(self, axis: str) -> None:
        self.stops.append(time.monotonic())
        super().stop(axis)


def started(event: asyncio.Event) -> Callable[[float, float], None]:
    """A progress callback that only says "the move has started"."""
    return lambda _position, _fraction: event.set()


async def helper_latencies(count: int, speed: float, acceleration: float) -> list[float]:
    """``move_and_wait`` alone: cancel flag set -> ``stop(x)`` called, ``count`` times."""
    stage = StopTimes(acceleration)
    latencies = []
    for i in range(count):
        cancel, moving = threading.Event(), asyncio.Event()
        move = asyncio.create_task(
            move_and_wait(
                stage,
                "x",
                mode="absolute",
                value=3_000.0 if i % 2 else -3_000.0,
                speed=speed,
                cancel=cancel,
                on_progress=started(moving),
            )
        )
        await moving.wait()
        cancelled_at = time.monotonic()
        cancel.set()
        with contextlib.suppress(MotionCancelled):
            await move
        latencies.append(stage.stops[-1] - cancelled_at)
    return latencies


async def measure(
    server: LiveServer, hw: RecordingController, count: int, speed: float
) -> list[CancelledMove]:
    moves = []
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
        for i in range(count):
            target = 3_000.0 if i % 2 else -3_000.0
            moves.append(
                await cancel_a_move(server, client, hw, WAYS[i % len(WAYS)], target, speed)
            )
    return moves


def report(moves: list[CancelledMove]) -> None:
    for label, subset in [("all", moves)] + [(w, [m for m in moves if m.way == w]) for w in WAYS]:
        print(f"{label}:")
        print(row("cancel -> stop issued", [m.stop_latency for m in subset]))
        print(within([m.stop_latency for m in subset]))
        print(row("cancel -> standstill", [m.rest_latency for m in subset]))
        print(row("cancel -> task_cancelled", [m.ended - m.cancelled_at for m in subset]))
    short = [
        m for m in moves if not min(m.start, m.target) < m.end["position"] < max(m.start, m.target)
    ]
    print(
        f"every task ended task_cancelled short of its target: "
        f"{all(m.end['type'] == 'task_cancelled' for m in moves) and not short}"
    )


def run(controller: Controller, count: int, speed: float) -> tuple[list[CancelledMove], float]:
    hw = RecordingController(controller)
    started = time.monotonic()
    with (
        tempfile.TemporaryDirectory(prefix="interlock-bench-") as data,
        run_server(
            Path(data), services={"controller": hw}, log_level="warning", debug_loop=False
        ) as server,
    ):
        moves = asyncio.run(measure(server, hw, count, speed))
    return moves, time.monotonic() - started


@contextlib.contextmanager
def epics_controller() -> Iterator[Controller]:
    """The EPICS plug-in on motor record m1 of a caproto IOC in a subprocess, on loopback."""
    from tests.support.epics import EpicsIoc  # first: Channel Access on loopback only

    from interlock.hardware import load_controller

    with EpicsIoc() as ioc:
        controller = load_controller("epics", {"axes": {"x": {"pv": ioc.pv("m1"), "unit": "um"}}})
        try:
            yield controller
        finally:
            controller.close()


def compare(simulated: list[CancelledMove], epics: list[CancelledMove]) -> None:
    print("side by side (p50 / p99, ms):")
    figures: list[tuple[str, Callable[[CancelledMove], float]]] = [
        ("cancel -> stop issued", lambda m: m.stop_latency),
        ("cancel -> standstill", lambda m: m.rest_latency),
    ]
    for label, figure in figures:
        cells = []
        for name, moves in (("simulated", simulated), ("epics", epics)):
            ms = [figure(m) * 1000 for m in moves]
            cells.append(f"{name} {statistics.median(ms):6.2f} / {percentile(ms, 0.99):6.2f}")
        print(f"  {label:<24} {'   '.join(cells)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=240, help="cancels in all (>= 200)")
    parser.add_argument("--speed", type=float, default=2_000.0, help="move speed, um/s")
    parser.add_argument(
        "--acceleration",
        type=float,
        default=20_000.0,
        help="stage acceleration, um/s^2 (the simulator's default)",
    )
    parser.add_argument(
        "--controller",
        choices=("simulated", "epics"),
        default="simulated",
        help="epics: also through Channel Access to a caproto IOC (interlock[epics]), "
        "beside the simulator",
    )
    args = parser.parse_args()
    moves, elapsed = run(
        SimulatedController(acceleration=args.acceleration), args.count, args.speed
    )
    print(
        f"stop latency: {len(moves)} cancels of a moving axis (x at up to {args.speed:g} um/s, "
        f"{args.acceleration:g} um/s^2), {elapsed:.1f} s"
    )
    report(moves)
    alone = asyncio.run(helper_latencies(max(1, args.count // 4), args.speed, args.acceleration))
    print("move_and_wait alone (no server):")
    print(row("cancel -> stop issued", alone))
    print(within(alone))
    if args.controller == "epics":
        with epics_controller() as controller:
            on_epics, elapsed = run(controller, args.count, args.speed)
        print(
            f"\nEPICS: {len(on_epics)} cancels of motor record m1 (x at up to {args.speed:g} "
            f"um/s) through Channel Access to a caproto IOC on loopback, {elapsed:.1f} s; the "
            "stop is a put to .STOP, standstill is .DMOV = 1 read back (the IOC halts at once, "
            "the simulator decelerates)"
        )
        report(on_epics)
        compare(moves, on_epics)


if __name__ == "__main__":
    main()
