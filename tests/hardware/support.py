"""Test-side hardware helpers: recording and sluggish Controllers, and driving motion tasks over
the wire.

Used by the hardware tests and by ``bench/stop_latency.py``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any, Literal

import httpx

from interlock.hardware import Axis, AxisStatus, Controller, SimulatedController
from interlock.protocol import TERMINAL_TYPES
from tests.support.server import LiveServer
from tests.support.ws import WS


class RecordingController:
    """A :class:`Controller` around another one that notes every command it passes on.

    ``moves`` and ``stops`` hold ``(time.monotonic(), axis)`` taken as the command is issued,
    before the wrapped controller sees it. ``rests`` holds the first time ``is_moving`` reported
    an axis at rest after a stop: when the server saw it stand still.
    """

    def __init__(self, inner: Controller) -> None:
        self.inner = inner
        self.moves: list[tuple[float, str]] = []
        self.stops: list[tuple[float, str]] = []
        self.rests: list[tuple[float, str]] = []
        self._stopping: set[str] = set()
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def connected(self) -> bool:
        return self.inner.connected

    def axes(self) -> list[Axis]:
        return self.inner.axes()

    def position(self, axis: str) -> float:
        return self.inner.position(axis)

    def is_moving(self, axis: str) -> bool:
        moving = self.inner.is_moving(axis)
        if not moving:
            with self._lock:
                if axis in self._stopping:
                    self._stopping.discard(axis)
                    self.rests.append((time.monotonic(), axis))
        return moving

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        self._note(self.moves, axis)
        self.inner.move_relative(axis, distance, speed)

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        self._note(self.moves, axis)
        self.inner.move_absolute(axis, target, speed)

    def stop(self, axis: str) -> None:
        self._note(self.stops, axis)
        self.inner.stop(axis)

    def stop_all(self) -> None:
        for axis in self.inner.axes():
            self._note(self.stops, axis.id)
        self.inner.stop_all()

    def status(self) -> dict[str, AxisStatus]:
        return self.inner.status()

    def read_signal(self) -> float:
        return self.inner.read_signal()

    def close(self) -> None:
        self.inner.close()

    def _note(self, log: list[tuple[float, str]], axis: str) -> None:
        now = time.monotonic()
        with self._lock:
            log.append((now, axis))
            if log is self.stops:
                self._stopping.add(axis)

    def first_after(self, log: list[tuple[float, str]], since: float, axis: str) -> float | None:
        with self._lock:
            return next((t for t, a in log if a == axis and t >= since), None)


class SluggishController(SimulatedController):
    """The simulator, moving at ``fraction`` of every commanded speed: a stage whose scale is
    mis-set or whose axis binds. Its moves take far longer than the speed promises."""

    def __init__(self, fraction: float, **options: Any) -> None:
        super().__init__(**options)
        self.fraction = fraction

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        super().move_relative(axis, distance, speed * self.fraction)

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        super().move_absolute(axis, target, speed * self.fraction)


# --------------------------------------------------------------------------- over the wire


async def submit(client: httpx.AsyncClient, task_type: str, **parameters: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": parameters})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def answer(ws: WS, prompt: dict[str, Any], value: bool) -> None:
    await ws.send({"type": "confirm", "value": value, "request_id": prompt["request_id"]})


async def until_terminal(ws: WS) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            msg = await ws.recv()
            if msg["type"] in TERMINAL_TYPES:
                return msg


async def confirm_all(ws: WS) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Answer Yes to every confirmation until the task ends; return (terminal, prompts)."""
    prompts = []
    async with asyncio.timeout(20):
        while True:
            msg = await ws.recv()
            if msg["type"] == "request_confirmation":
                prompts.append(msg)
                await answer(ws, msg, True)
            elif msg["type"] in TERMINAL_TYPES:
                return msg, prompts


async def until_moving(ws: WS, start: float) -> dict[str, Any]:
    """The first progress message whose position shows the axis has left ``start``."""
    while True:
        msg = await ws.until("progress")
        details = msg.get("details") or {}
        if "position" in details and details["position"] != start:
            return msg


async def stored_requests(server: LiveServer, task_id: str) -> list[Any]:
    """The task's human requests as the store holds them."""

    async def read() -> list[Any]:
        await server.manager.journal.sync()
        return await server.manager.store.get_requests(task_id)

    return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(read(), server.loop))


Way = Literal["delete", "ws", "hardware_stop"]
WAYS: tuple[Way, ...] = ("delete", "ws", "hardware_stop")
REASONS = {
    "delete": "cancelled by operator",
    "ws": "cancelled by operator",
    "hardware_stop": "hardware stop",
}


@dataclass
class CancelledMove:
    """One move cancelled mid-flight, with the timings the server's controller saw."""

    way: Way
    start: float
    target: float
    cancelled_at: float
    stop_issued: float | None
    at_rest: float | None
    ended: float
    end: dict[str, Any]

    @property
    def stop_latency(self) -> float:
        assert self.stop_issued is not None, "no stop was issued after the cancel"
        return self.stop_issued - self.cancelled_at

    @property
    def rest_latency(self) -> float:
        assert self.at_rest is not None, "the axis was never seen at rest after the stop"
        return self.at_rest - self.cancelled_at


async def cancel_a_move(
    server: LiveServer,
    client: httpx.AsyncClient,
    hw: RecordingController,
    way: Way,
    target: float,
    speed: float = 2_000.0,
) -> CancelledMove:
    """Start an ``axis_movement`` of x to ``target``, say Yes, and cancel it ``way`` as soon as
    a progress message shows x moving. Returns when ``task_cancelled`` arrived."""
    task_id = await submit(
        client, "axis_movement", axis="x", mode="absolute", target=target, speed=speed
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        start = prompt["details"]["from"]
        await answer(ws, prompt, True)
        await until_moving(ws, start)
        assert hw.is_moving("x"), "the axis must be moving when the cancel is sent"
        cancelled_at = time.monotonic()
        if way == "delete":
            r = await client.delete(f"/tasks/{task_id}")
            assert r.status_code == 200, r.text
        elif way == "ws":
            await ws.send({"type": "cancel"})
        else:
            r = await client.post("/hardware/stop")
            assert r.status_code == 200, r.text
            assert r.json()["cancelled"] == [task_id]
        end = await until_terminal(ws)
        ended = time.monotonic()
    return CancelledMove(
        way,
        start,
        target,
        cancelled_at,
        hw.first_after(hw.stops, cancelled_at, "x"),
        hw.first_after(hw.rests, cancelled_at, "x"),
        ended,
        {**end, "task_id": task_id},
    )
