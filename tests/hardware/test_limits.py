"""Sane motion parameters: speed bounds per unit, scan widths and steps, per-move timeouts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from interlock.exceptions import InvalidParameters
from interlock.hardware import (
    DEFAULT_AXES,
    Axis,
    MotionLimitError,
    MotionTimeout,
    SimulatedController,
    TravelTimeout,
    check_speed,
    move_and_wait,
)
from interlock.hardware.limits import MIN_SPEED_ANY_UNIT, check_step, check_width, speed_for
from interlock.tasks import builtin_registry
from interlock.tasks.motion_params import (
    AxisMovementParams,
    ProfileParams,
    check_axis_movement,
    check_profile,
)
from tests.hardware.support import SluggishController

X, TX = DEFAULT_AXES[0], DEFAULT_AXES[3]
#: An axis in a unit Interlock has no built-in limits for.
R = Axis("r", "Rotation", "mrad", -100.0, 100.0)


@pytest.mark.parametrize(
    ("axis", "speed", "message"),
    [
        (X, 5e-324, "at least 1 µm/s for axis x"),
        (X, 0.5, "at least 1 µm/s for axis x"),
        (X, 10_001.0, "at most 10000 µm/s for axis x"),
        (X, float("inf"), "speed must be a finite number of µm/s for axis x"),
        (TX, 0.001, "at least 0.01 deg/s for axis tx"),
        (TX, 1_000.0, "at most 20 deg/s for axis tx"),
        (R, 1e-9, "at least 0.001 mrad/s for axis r (in mrad, which has no built-in speed"),
        (R, float("nan"), "speed must be a finite number of mrad/s for axis r"),
    ],
)
def test_a_speed_outside_its_units_bounds_is_refused_naming_the_unit(
    axis: Axis, speed: float, message: str
) -> None:
    with pytest.raises(MotionLimitError) as caught:
        check_speed(axis, speed)
    assert message in str(caught.value)


def test_sane_speeds_pass_and_defaults_depend_on_the_unit() -> None:
    assert check_speed(X, 1.0) == 1.0 and check_speed(X, 10_000.0) == 10_000.0
    assert check_speed(TX, 20.0) == 20.0
    assert check_speed(R, 1e6) == 1e6  # no built-in maximum for an unknown unit
    assert speed_for(X, None) == 1_000.0 and speed_for(TX, None) == 2.0
    with pytest.raises(MotionLimitError, match=r"required for axis r \(in mrad, which has no"):
        speed_for(R, None)
    assert speed_for(R, MIN_SPEED_ANY_UNIT) == MIN_SPEED_ANY_UNIT


def test_scan_widths_are_bounded_by_the_travel_and_steps_by_the_resolution() -> None:
    check_width(X, 20_000.0)
    with pytest.raises(MotionLimitError, match=r"20001 µm is wider than the travel of x \(20000"):
        check_width(X, 20_001.0)
    with pytest.raises(MotionLimitError, match=r"12 deg is wider than the travel of tx \(10 deg"):
        check_width(TX, 12.0)
    check_step(X, 5.0, 501)  # 0.01 µm apart: exactly the resolution
    with pytest.raises(MotionLimitError) as caught:
        check_step(X, 5.0, 1001)
    assert str(caught.value) == (
        "1001 points over 5 µm are 0.005 µm apart, finer than the 0.01 µm resolution of x; "
        "use at most 501 points"
    )
    check_step(R, 200.0, 1001)
    with pytest.raises(MotionLimitError, match="resolution of r"):
        check_step(R, 0.0001, 1001)  # unknown unit: a millionth of the travel


def test_the_travel_timeout_grows_with_distance_not_with_the_axis_range() -> None:
    timeout = TravelTimeout(slack=1.5, ramp=2.0, margin=5.0)
    assert timeout.seconds(100.0, 1_000.0) == pytest.approx(0.15 + 2.0 + 5.0)
    assert timeout.seconds(-10_000.0, 1_000.0) == pytest.approx(15.0 + 2.0 + 5.0)
    with pytest.raises(ValueError, match="positive and finite"):
        timeout.seconds(1.0, 0.0)
    with pytest.raises(ValueError):
        TravelTimeout(slack=0.5)


async def test_a_move_that_never_arrives_is_stopped_after_its_travel_timeout() -> None:
    stage = SluggishController(0.01, acceleration=1_000_000.0)
    timeout = TravelTimeout(slack=1.0, ramp=0.0, margin=0.1)
    with pytest.raises(MotionTimeout) as caught:
        await move_and_wait(
            stage,
            "x",
            mode="relative",
            value=200.0,
            speed=10_000.0,
            cancel=threading.Event(),
            timeout=timeout,
        )
    assert caught.value.timeout == pytest.approx(200.0 / 10_000.0 + 0.1)
    assert not stage.is_moving("x")
    assert 0 < caught.value.position == stage.position("x") < 200.0


async def test_move_and_wait_refuses_a_speed_that_is_not_positive_and_finite() -> None:
    stage = SimulatedController()
    for speed in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ValueError, match="speed must be positive and finite"):
            await move_and_wait(
                stage, "x", mode="relative", value=1.0, speed=speed, cancel=threading.Event()
            )
    assert stage.position("x") == 0.0


# ---------------------------------------------------------------------------- submission


def errors_of(check: Any, params: Any, controller: Any) -> dict[str, str]:
    try:
        check(params, {"controller": controller})
    except InvalidParameters as exc:
        return {e["field"]: e["message"] for e in exc.errors}
    return {}


def test_an_axis_in_an_unknown_unit_needs_an_explicit_sane_speed() -> None:
    stage = SimulatedController(axes=[R], acceleration=1_000.0)
    move = AxisMovementParams(axis="r", distance=5.0)
    assert errors_of(check_axis_movement, move, stage) == {
        "speed": "required for axis r (in mrad, which has no default speed)"
    }
    slow = move.model_copy(update={"speed": 1e-6})
    assert "at least 0.001 mrad/s" in errors_of(check_axis_movement, slow, stage)["speed"]
    assert errors_of(check_axis_movement, move.model_copy(update={"speed": 5.0}), stage) == {}


@pytest.mark.parametrize("axis", [axis.id for axis in DEFAULT_AXES])
def test_the_default_profile_speed_is_valid_on_every_axis(axis: str) -> None:
    info = next(a for a in DEFAULT_AXES if a.id == axis)
    params = ProfileParams(axis=axis, start=info.min, stop=info.max)
    assert params.speed is None
    assert errors_of(check_profile, params, SimulatedController()) == {}


def test_submission_checks_may_run_in_worker_threads_while_axes_move() -> None:
    """The manager runs ``check`` off the event loop; several may run at once."""
    stage = SimulatedController()
    stage.move_absolute("x", 5_000.0, 1_000.0)
    registry = builtin_registry()
    cases = [
        ("axis_movement", {"axis": "x", "distance": 100.0}),
        ("axis_movement", {"axis": "tx", "distance": 1.0, "speed": 50.0}),
        ("flat_alignment", {"axes": ["x", "tx"]}),
        ("angle_adjustment", {}),
        ("focus_alignment", {"axis": "tx"}),
        ("profile_measurement", {"axis": "ty", "start": -1.0, "stop": 1.0}),
    ] * 8

    def check(name: str, raw: dict[str, Any]) -> set[str]:
        task_type = registry.get(name)
        assert task_type.check is not None
        try:
            task_type.check(task_type.validate(raw), {"controller": stage})
        except InvalidParameters as exc:
            return {e["field"] for e in exc.errors}
        return set()

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda case: check(*case), cases))
    stage.stop("x")
    assert results[:6] == [set(), {"speed"}, {"axes.1"}, set(), set(), set()]
    assert results == results[:6] * 8
