"""The Controller contract: every plug-in's controller passes these, against its real peer.

Parametrized over the rigs of ``tests/hardware/rigs_*.py`` (see ``rigs.py``): axes, limits,
move, stop mid-move, link loss (faults, clear errors) and reconnect. There is no event to
await from a blocking controller, so the waits poll it, each bounded by the rig's ``settle``.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from interlock.hardware import (
    Axis,
    Controller,
    ControllerDisconnected,
    HardwareError,
    SoftLimitError,
    UnknownAxisError,
    move_and_wait,
)
from tests.hardware.rigs import Rig, load_rigs

RIGS = load_rigs()


@pytest.fixture(params=sorted(RIGS))
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    with RIGS[request.param](tmp_path) as made:
        yield made


def _axis(rig: Rig) -> Axis:
    axes = {axis.id: axis for axis in rig.controller.axes()}
    return axes[rig.axis] if rig.axis is not None else next(iter(axes.values()))


def _until(what: str, check: Callable[[], bool], within: float) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {within:g} s"
        time.sleep(0.005)


def _still(controller: Controller, axis: str, within: float) -> float:
    _until(f"axis {axis} at rest", lambda: not controller.is_moving(axis), within)
    return controller.position(axis)


def _long_move(rig: Rig, axis: Axis) -> tuple[float, float]:
    """A signed distance (away from the nearer limit, inside the travel) and a speed that
    covers it in about ``rig.move_seconds``."""
    position = rig.controller.position(axis.id)
    room = max(axis.max - position, position - axis.min)
    distance = min(room * 0.5, (axis.max - axis.min) * 0.25)
    sign = 1.0 if axis.max - position >= position - axis.min else -1.0
    return sign * distance, distance / rig.move_seconds


def _lost(rig: Rig, axis: str) -> None:
    """Cut the link and wait until the controller noticed (a call fails with
    ControllerDisconnected)."""
    rig.break_link()

    def noticed() -> bool:
        try:
            rig.controller.position(axis)
        except ControllerDisconnected:
            return True
        return False

    _until("link loss noticed", noticed, rig.settle)


def test_axes_and_status_describe_the_stage(rig: Rig) -> None:
    controller = rig.controller
    assert isinstance(controller, Controller)
    assert controller.connected
    axes = controller.axes()
    assert axes and len({a.id for a in axes}) == len(axes)
    status = controller.status()
    assert list(status) == [a.id for a in axes]
    for axis in axes:
        position = status[axis.id]["position"]
        assert position is not None and axis.contains(position)
        assert status[axis.id]["moving"] is False
        assert status[axis.id]["fault"] is None
    assert math.isfinite(controller.read_signal())


def test_move_returns_at_once_and_reaches_target(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    distance, speed = _long_move(rig, axis)
    target = controller.position(axis.id) + distance
    controller.move_absolute(axis.id, target, speed)
    assert controller.is_moving(axis.id), "the move returned before the axis arrived"
    reached = _still(controller, axis.id, rig.move_seconds * 3 + rig.settle)
    assert reached == pytest.approx(target, abs=abs(distance) * 1e-3)
    controller.move_relative(axis.id, -distance / 2, speed)
    reached = _still(controller, axis.id, rig.move_seconds * 3 + rig.settle)
    assert reached == pytest.approx(target - distance / 2, abs=abs(distance) * 1e-3)


def test_soft_limits_and_unknown_axes_refused_before_moving(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    before = controller.position(axis.id)
    speed = abs(_long_move(rig, axis)[1])
    with pytest.raises(SoftLimitError):
        controller.move_absolute(axis.id, axis.max + (axis.max - axis.min), speed)
    with pytest.raises(SoftLimitError):
        controller.move_relative(axis.id, axis.min - before - (axis.max - axis.min), speed)
    assert not controller.is_moving(axis.id)
    assert controller.position(axis.id) == pytest.approx(before)
    for call in (controller.position, controller.is_moving, controller.stop):
        with pytest.raises(UnknownAxisError):
            call("no-such-axis")


def test_stop_mid_move_rests_short_of_target(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    distance, speed = _long_move(rig, axis)
    start = controller.position(axis.id)
    controller.move_relative(axis.id, distance, speed)
    _until(
        "the axis moved",
        lambda: abs(controller.position(axis.id) - start) > abs(distance) * 0.05,
        rig.settle,
    )
    controller.stop(axis.id)
    rest = _still(controller, axis.id, rig.settle)
    travelled = (rest - start) / distance
    assert 0 < travelled < 0.95
    controller.stop(axis.id)  # at rest: a no-op
    assert controller.position(axis.id) == pytest.approx(rest)


def test_stop_all_stops_every_axis(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    distance, speed = _long_move(rig, axis)
    controller.move_relative(axis.id, distance, speed)
    controller.stop_all()
    for each in controller.axes():
        _still(controller, each.id, rig.settle)


def test_link_loss_faults_axes_and_fails_calls_clearly(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    _lost(rig, axis.id)
    assert not controller.connected
    status = controller.status()
    assert set(status) == {a.id for a in controller.axes()}
    for each in status.values():
        assert each["fault"] and "disconnected" in each["fault"]
    distance, speed = _long_move_while_down(rig, axis)
    with pytest.raises(ControllerDisconnected, match="disconnected"):
        controller.move_relative(axis.id, distance, speed)
    with pytest.raises(ControllerDisconnected):
        controller.is_moving(axis.id)
    with pytest.raises(HardwareError):  # not delivered: the caller must know
        controller.stop(axis.id)
    assert [a.id for a in controller.axes()]  # the configured axes still answer


def _long_move_while_down(rig: Rig, axis: Axis) -> tuple[float, float]:
    distance = (axis.max - axis.min) * 0.01
    return distance, distance / rig.move_seconds


def test_reconnects_with_backoff_when_the_peer_is_back(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    _lost(rig, axis.id)
    rig.restore_link()
    _until("reconnected", lambda: controller.connected, rig.settle * 2)
    assert all(each["fault"] is None for each in controller.status().values())
    distance, speed = _long_move(rig, axis)
    start = controller.position(axis.id)
    controller.move_relative(axis.id, distance / 10, speed)
    rest = _still(controller, axis.id, rig.move_seconds * 3 + rig.settle)
    assert rest == pytest.approx(start + distance / 10, abs=abs(distance) * 1e-3)


async def test_move_in_progress_fails_clearly_on_link_loss(rig: Rig) -> None:
    controller, axis = rig.controller, _axis(rig)
    distance, speed = _long_move(rig, axis)
    moved = threading.Event()
    start = controller.position(axis.id)

    def progress(position: float, fraction: float) -> None:
        if abs(position - start) > abs(distance) * 0.05:
            moved.set()

    async def cut_when_moving() -> None:
        while not moved.is_set():
            await asyncio.sleep(0.005)
        await asyncio.to_thread(rig.break_link)

    cutter = asyncio.create_task(cut_when_moving())
    with pytest.raises(ControllerDisconnected, match="disconnected"):
        await move_and_wait(
            controller,
            axis.id,
            mode="relative",
            value=distance,
            speed=speed,
            cancel=threading.Event(),
            on_progress=progress,
            timeout=rig.move_seconds * 3 + rig.settle,
        )
    await cutter


def test_close_is_idempotent_and_final(rig: Rig) -> None:
    rig.controller.close()
    rig.controller.close()
    assert not rig.controller.connected
    with pytest.raises(HardwareError):
        rig.controller.position(_axis(rig).id)
