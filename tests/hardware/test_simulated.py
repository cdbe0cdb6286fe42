"""The simulated controller's physics and faults, the registry, and the Controller contract."""

from __future__ import annotations

import math
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from interlock.hardware import (
    Axis,
    AxisBusyError,
    Backoff,
    Controller,
    HardwareError,
    InvalidControllerOptions,
    SignalModel,
    SimulatedController,
    SoftLimitError,
    UnknownAxisError,
    UnknownControllerError,
    available_controllers,
    load_controller,
)


class ManualClock:
    """A clock that only moves when told, so motion can be checked at exact instants."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_until_still(controller: Controller, axis: str, within: float = 2.0) -> float:
    """Poll real motion until ``axis`` rests; return how long that took."""
    started = time.monotonic()
    while controller.is_moving(axis):
        assert time.monotonic() - started < within, f"axis {axis} still moving after {within} s"
        time.sleep(0.002)
    return time.monotonic() - started


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def stage(clock: ManualClock) -> SimulatedController:
    """x in um with 1000 um/s^2: a 100 um move at 100 um/s ramps 0.1 s, cruises 0.9 s."""
    return SimulatedController(acceleration=1_000.0, clock=clock)


# Physics, with a manual clock


def test_move_follows_a_trapezoidal_profile(stage: SimulatedController, clock: ManualClock) -> None:
    stage.move_relative("x", 100.0, 100.0)
    expected = [(0.05, 1.25), (0.1, 5.0), (0.6, 55.0), (1.05, 98.75)]
    elapsed = 0.0
    for at, position in expected:
        clock.advance(at - elapsed)
        elapsed = at
        assert stage.position("x") == pytest.approx(position)
        assert stage.is_moving("x")
    clock.advance(1.1 - elapsed)
    assert stage.position("x") == 100.0
    assert not stage.is_moving("x")


def test_short_move_is_triangular(stage: SimulatedController, clock: ManualClock) -> None:
    stage.move_absolute("x", -10.0, 1_000.0)
    clock.advance(0.1)
    assert stage.position("x") == pytest.approx(-5.0)
    clock.advance(0.1001)  # past the end despite rounding in the clock sum
    assert stage.position("x") == -10.0
    assert not stage.is_moving("x")


def test_stop_decelerates_to_rest_short_of_the_target(
    stage: SimulatedController, clock: ManualClock
) -> None:
    stage.move_relative("x", 100.0, 100.0)
    clock.advance(0.6)
    stage.stop("x")
    clock.advance(0.05)
    assert stage.is_moving("x")
    assert stage.position("x") == pytest.approx(58.75)
    clock.advance(0.05)
    assert not stage.is_moving("x")
    assert stage.position("x") == pytest.approx(60.0)


def test_stop_at_rest_changes_nothing(stage: SimulatedController) -> None:
    stage.stop("x")
    assert stage.status()["x"] == {"position": 0.0, "moving": False, "fault": None}


def test_stop_all_stops_every_moving_axis(stage: SimulatedController, clock: ManualClock) -> None:
    stage.move_relative("x", 100.0, 100.0)
    stage.move_relative("y", -100.0, 100.0)
    clock.advance(0.5)
    stage.stop_all()
    clock.advance(0.2)
    status = stage.status()
    assert not any(s["moving"] for s in status.values())
    assert status["x"]["position"] == pytest.approx(50.0)
    assert status["y"]["position"] == pytest.approx(-50.0)


def test_move_on_a_moving_axis_is_refused(stage: SimulatedController) -> None:
    stage.move_relative("x", 100.0, 100.0)
    with pytest.raises(AxisBusyError):
        stage.move_absolute("x", 0.0, 100.0)


def test_real_clock_move_takes_the_profile_time() -> None:
    stage = SimulatedController()  # 20000 um/s^2: 200 um at 2000 um/s is a 0.2 s triangle
    stage.move_relative("x", 200.0, 2_000.0)
    assert stage.is_moving("x"), "the move returned before the axis arrived"
    # Never sooner than the profile; later only by how busy the machine is (no upper bound).
    assert wait_until_still(stage, "x") > 0.15
    assert stage.position("x") == 200.0


def test_concurrent_callers_see_consistent_motion() -> None:
    stage = SimulatedController(acceleration=1_000_000.0)
    errors: list[BaseException] = []

    def poll() -> None:
        try:
            for _ in range(2_000):
                position = stage.status()["x"]["position"]
                assert position is not None and -10_000.0 <= position <= 10_000.0
        except BaseException as exc:
            errors.append(exc)

    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for thread in pollers:
        thread.start()
    for _ in range(50):
        stage.move_relative("x", 10.0, 100_000.0)
        stage.stop("x")
        wait_until_still(stage, "x")
    for thread in pollers:
        thread.join()
    assert errors == []


def test_custom_axes_get_a_signal_over_the_default_axes_they_keep() -> None:
    stage = SimulatedController([Axis("z", "Focus", "um", 0.0, 5_000.0)], positions={"z": 2_500.0})
    assert stage.read_signal() == pytest.approx(1.0, abs=0.01)


# Limits and faults


def test_soft_limit_raises_before_moving(stage: SimulatedController) -> None:
    with pytest.raises(SoftLimitError) as caught:
        stage.move_absolute("z", -1.0, 100.0)
    assert (caught.value.axis, caught.value.min, caught.value.max) == ("z", 0.0, 5_000.0)
    with pytest.raises(SoftLimitError):
        stage.move_relative("tx", 5.5, 1.0)
    assert not any(s["moving"] for s in stage.status().values())
    assert stage.position("z") == 0.0


def test_unknown_axis_names_the_known_ones(stage: SimulatedController) -> None:
    with pytest.raises(UnknownAxisError, match="known axes: x, y, z, tx, ty"):
        stage.position("w")


def test_fail_stop_on_raises_and_leaves_the_axis_moving(clock: ManualClock) -> None:
    stage = SimulatedController(acceleration=1_000.0, clock=clock, fail_stop_on={"y"})
    stage.move_relative("x", 100.0, 100.0)
    stage.move_relative("y", 100.0, 100.0)
    clock.advance(0.5)
    with pytest.raises(HardwareError):
        stage.stop("y")
    with pytest.raises(HardwareError, match="could not stop axes: y"):
        stage.stop_all()
    clock.advance(0.2)
    assert not stage.is_moving("x")
    assert stage.is_moving("y")


def test_close_stops_everything_and_later_calls_raise(
    stage: SimulatedController, clock: ManualClock
) -> None:
    stage.move_relative("x", 100.0, 100.0)
    clock.advance(0.5)
    stage.close()
    stage.close()
    with pytest.raises(HardwareError, match="closed"):
        stage.position("x")


# Signal


def test_signal_peaks_at_the_configured_center() -> None:
    model = SignalModel(center={"x": 30.0, "tx": 0.5}, width={"x": 10.0, "tx": 1.0}, noise=0.0)
    stage = SimulatedController(signal=model, positions={"x": 30.0, "tx": 0.5})
    assert stage.read_signal() == pytest.approx(1.0)
    off = SimulatedController(signal=model, positions={"x": 40.0, "tx": 0.5})
    assert off.read_signal() == pytest.approx(math.exp(-0.5))


def test_signal_noise_is_reproducible_with_a_seed() -> None:
    def readings(seed: int) -> list[float]:
        stage = SimulatedController(seed=seed, positions={"x": 120.0, "y": -80.0, "z": 2_500.0})
        return [stage.read_signal() for _ in range(5)]

    assert readings(7) == readings(7)
    assert readings(7) != readings(8)
    assert len(set(readings(7))) == 5


# Registry


def test_simulated_is_built_in_and_takes_options() -> None:
    assert "simulated" in available_controllers()
    stage = load_controller("simulated", {"positions": {"x": 5.0}})
    assert isinstance(stage, SimulatedController)
    assert stage.position("x") == 5.0
    stage.close()


def test_options_are_validated_by_the_options_model() -> None:
    with pytest.raises(InvalidControllerOptions) as caught:
        load_controller("simulated", {"seed": "many", "axes": [{"id": "q"}], "colour": 1})
    fields = {".".join(map(str, e["loc"])) for e in caught.value.errors}
    assert {"seed", "axes.0.min", "axes.0.max", "colour"} <= fields
    assert "axes.0.min: Field required" in str(caught.value)


def test_options_build_the_axes() -> None:
    options = {"axes": [{"id": "r", "unit": "deg", "min": -90, "max": 90}], "positions": {"r": 4}}
    stage = load_controller("simulated", options)
    assert [(a.id, a.unit, a.min, a.max) for a in stage.axes()] == [("r", "deg", -90.0, 90.0)]
    assert stage.position("r") == 4.0
    stage.close()


def test_unknown_controller_lists_the_available_ones() -> None:
    with pytest.raises(UnknownControllerError, match=r"available controllers: .*simulated"):
        load_controller("no-such-stage")


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An installed distribution publishing controllers, as a real plugin package would."""
    (tmp_path / "interlock_test_plugin.py").write_text(
        textwrap.dedent(
            """
            from interlock.hardware import SimulatedController

            class PluginStage(SimulatedController):
                name = "plugin"

            def not_a_factory(**options):
                return object()

            def not_a_controller(options):
                return object()

            not_a_controller.Options = PluginStage.Options
            """
        )
    )
    dist_info = tmp_path / "interlock_test_plugin-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: interlock-test-plugin\n")
    (dist_info / "entry_points.txt").write_text(
        "[interlock.controllers]\n"
        "plugin = interlock_test_plugin:PluginStage\n"
        "bogus = interlock_test_plugin:not_a_controller\n"
        "optionless = interlock_test_plugin:not_a_factory\n"
        "unloadable = interlock_test_plugin_missing:Stage\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "interlock_test_plugin", raising=False)


@pytest.mark.usefixtures("plugin")
def test_entry_point_controllers_are_found_and_checked() -> None:
    assert {"plugin", "bogus", "unloadable", "simulated"} <= set(available_controllers())
    assert load_controller("plugin", {"seed": 1}).name == "plugin"
    with pytest.raises(HardwareError, match="does not implement the Controller protocol"):
        load_controller("bogus")
    with pytest.raises(HardwareError, match="not a controller factory"):
        load_controller("optionless")
    with pytest.raises(HardwareError, match="cannot load entry point"):
        load_controller("unloadable")


# The simulated link: break_link / restore_link (the contract suite, test_contract.py, runs
# the shared link-loss checks on every controller).


def test_break_link_keeps_motion_going_and_reports_last_positions(clock: ManualClock) -> None:
    stage = SimulatedController(acceleration=1_000.0, clock=clock, backoff=Backoff(0.01))
    stage.move_absolute("x", 100.0, 100.0)
    clock.advance(0.5)
    seen = stage.position("x")
    stage.break_link("cable pulled")
    status = stage.status()
    assert status["x"] == {
        "position": seen,
        "moving": False,
        "fault": "controller disconnected: cable pulled",
    }
    clock.advance(10.0)
    stage.restore_link()
    deadline = time.monotonic() + 5
    while not stage.connected:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert stage.position("x") == 100.0  # the firmware finished the move meanwhile
    assert stage.reconnect_attempts >= 1
    stage.close()
