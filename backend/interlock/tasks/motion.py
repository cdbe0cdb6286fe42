"""Motion tasks: move an axis, adjust angles, align focus and flat, measure a profile.

Every motion is asked for first with a ``hazard`` confirmation (No, or no answer, ends the
task ``declined`` with nothing moved), runs through a :class:`Stage` (stops at once on cancel,
reports progress, stops every touched axis if the task ends early), and the task holds its
axes: a second task on the same axis gets 409. Parameters that the controller can check
(axis names, soft limits, speed) are checked at submission, so a violation is a 422.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..exceptions import InvalidParameters, TaskFailed
from ..hardware.controller import Axis, Controller
from ..hardware.peak import peak_position
from ..hardware.resources import CONTROLLER, axis_resources
from ..runtime import TaskContext
from ..stage import Stage, controller_of
from .registry import TaskRegistry

#: Highest speed a task may ask for, per axis unit (unit/s).
MAX_SPEED = {"um": 10_000.0, "deg": 20.0}
#: Speed of ``axis_movement`` when none is given, per axis unit (unit/s).
DEFAULT_SPEED = {"um": 1_000.0, "deg": 2.0}


def _confirm_timeout() -> Any:
    return Field(
        300.0, gt=0, le=86_400, description="Seconds to wait for each Yes; no answer is a No"
    )


def _points() -> Any:
    return Field(51, ge=3, le=1001, description="Points per scan")


class AxisMovementParams(BaseModel):
    axis: str = Field("x", description="Axis id, as GET /hardware lists them")
    mode: Literal["relative", "absolute"] = "relative"
    distance: float | None = Field(
        None,
        allow_inf_nan=False,
        validate_default=True,
        description="Relative moves: distance in the axis unit (um for x, y, z)",
    )
    target: float | None = Field(
        None,
        allow_inf_nan=False,
        validate_default=True,
        description="Absolute moves: target position in the axis unit",
    )
    speed: float | None = Field(
        None,
        gt=0,
        le=MAX_SPEED["um"],
        description="Axis unit per second (default: 1000 um/s, 2 deg/s)",
    )
    confirm_timeout: float = _confirm_timeout()

    @field_validator("distance", "target")
    @classmethod
    def _needed_by_mode(cls, value: float | None, info: ValidationInfo) -> float | None:
        needs = "distance" if info.data.get("mode") == "relative" else "target"
        if value is None and info.field_name == needs and "mode" in info.data:
            raise ValueError(f"{needs} is required for a {info.data['mode']} move")
        return value


class AngleAdjustmentParams(BaseModel):
    axes: list[str] = Field(
        default_factory=lambda: ["tx", "ty"],
        min_length=1,
        max_length=4,
        description="Angular axes to adjust, one after the other",
    )
    coarse_range: float = Field(2.0, gt=0, le=20, description="Coarse scan width (deg)")
    coarse_points: int = Field(11, ge=3, le=201)
    fine_range: float = Field(0.4, gt=0, le=20, description="Fine scan width (deg)")
    fine_points: int = Field(11, ge=3, le=201)
    speed: float = Field(2.0, gt=0, le=MAX_SPEED["deg"], description="deg/s")
    confirm_timeout: float = _confirm_timeout()


class FocusAlignmentParams(BaseModel):
    axis: str = Field("z", description="The focus (optical) axis")
    start: float | None = Field(None, description="Scan start; default: the lower soft limit")
    stop: float | None = Field(None, description="Scan end; default: the upper soft limit")
    points: int = _points()
    speed: float = Field(1000.0, gt=0, le=10_000, description="um/s")
    confirm_timeout: float = _confirm_timeout()


class FlatAlignmentParams(BaseModel):
    axes: list[str] = Field(
        default_factory=lambda: ["x", "y"],
        min_length=1,
        max_length=4,
        description="Lateral axes, aligned one after the other",
    )
    span: float = Field(500.0, gt=0, le=20_000, description="Scan width (um) around each axis")
    points: int = _points()
    speed: float = Field(1000.0, gt=0, le=10_000, description="um/s")
    confirm_timeout: float = _confirm_timeout()


class ProfileParams(BaseModel):
    axis: str = "x"
    start: float = Field(allow_inf_nan=False, description="First position")
    stop: float = Field(allow_inf_nan=False, description="Last position")
    points: int = Field(101, ge=2, le=10_001)
    speed: float = Field(1000.0, gt=0, le=10_000)
    confirm_timeout: float = _confirm_timeout()


# ------------------------------------------------------------------------- submission checks


def _invalid(field: str, message: str) -> InvalidParameters:
    return InvalidParameters([{"field": field, "message": message}])


def _axis(controller: Controller, axis_id: str, field: str, unit: str | None = None) -> Axis:
    axes = {axis.id: axis for axis in controller.axes()}
    if axis_id not in axes:
        raise _invalid(field, f"unknown axis {axis_id!r}; axes: {', '.join(axes)}")
    axis = axes[axis_id]
    if unit is not None and axis.unit != unit:
        raise _invalid(field, f"axis {axis_id!r} is in {axis.unit}, not {unit}")
    return axis


def _within(axis: Axis, position: float, field: str) -> None:
    if not axis.contains(position):
        limits = f"[{axis.min:g}, {axis.max:g}] {axis.unit}"
        raise _invalid(
            field, f"{position:g} {axis.unit} is outside the soft limits of {axis.id} {limits}"
        )


def _speed(axis: Axis, speed: float | None) -> None:
    if speed is None:
        if axis.unit not in DEFAULT_SPEED:
            raise _invalid("speed", f"required for axis {axis.id} (in {axis.unit})")
        return
    top = MAX_SPEED.get(axis.unit)
    if top is not None and speed > top:
        raise _invalid("speed", f"at most {top:g} {axis.unit}/s for axis {axis.id}")


def _different(axes: list[str]) -> None:
    if len(set(axes)) != len(axes):
        raise _invalid("axes", "axes must be different")


def check_axis_movement(params: AxisMovementParams, services: dict[str, Any]) -> None:
    controller = controller_of(services)
    axis = _axis(controller, params.axis, "axis")
    _speed(axis, params.speed)
    if params.mode == "absolute":
        assert params.target is not None
        _within(axis, params.target, "target")
    else:
        assert params.distance is not None
        # One position read on the loop: a submission check cannot await, and a 422 at POST
        # (before anyone is asked) is worth the short call.
        _within(axis, controller.position(axis.id) + params.distance, "distance")


def check_angle_adjustment(params: AngleAdjustmentParams, services: dict[str, Any]) -> None:
    controller = controller_of(services)
    _different(params.axes)
    for index, axis_id in enumerate(params.axes):
        _axis(controller, axis_id, f"axes.{index}", unit="deg")


def check_focus_alignment(params: FocusAlignmentParams, services: dict[str, Any]) -> None:
    axis = _axis(controller_of(services), params.axis, "axis")
    _speed(axis, params.speed)
    for field in ("start", "stop"):
        value = getattr(params, field)
        if value is not None:
            _within(axis, value, field)
    start, stop = _focus_range(axis, params)
    if start == stop:
        raise _invalid("stop", "stop must differ from start")


def check_flat_alignment(params: FlatAlignmentParams, services: dict[str, Any]) -> None:
    controller = controller_of(services)
    _different(params.axes)
    for index, axis_id in enumerate(params.axes):
        _speed(_axis(controller, axis_id, f"axes.{index}"), params.speed)


def check_profile(params: ProfileParams, services: dict[str, Any]) -> None:
    axis = _axis(controller_of(services), params.axis, "axis")
    _speed(axis, params.speed)
    _within(axis, params.start, "start")
    _within(axis, params.stop, "stop")
    if params.start == params.stop:
        raise _invalid("stop", "stop must differ from start")


# ---------------------------------------------------------------------------------- helpers


def _window(axis: Axis, center: float, width: float) -> tuple[float, float]:
    return max(axis.min, center - width / 2), min(axis.max, center + width / 2)


def _focus_range(axis: Axis, params: FocusAlignmentParams) -> tuple[float, float]:
    start = axis.min if params.start is None else params.start
    return start, axis.max if params.stop is None else params.stop


def _seconds(distance: float, speed: float) -> float:
    """Travel time at cruise speed (ramps ignored): an estimate for the operator."""
    return round(abs(distance) / speed, 3)


def _series(axis: Axis, xs: list[float], ys: list[float]) -> dict[str, Any]:
    return {"x": xs, "y": ys, "x_label": f"{axis.id} ({axis.unit})", "y_label": "signal"}


async def _scan_then_peak(
    stage: Stage,
    axis: Axis,
    low: float,
    high: float,
    points: int,
    speed: float,
    name: str,
    percent: tuple[float, float],
) -> tuple[dict[str, Any], float]:
    """Confirm and run a scan, then confirm and make the move to its peak."""
    here = await stage.position(axis.id)
    await stage.confirm(
        f"Scan {axis.id} from {low:g} to {high:g} {axis.unit} in {points} points?",
        {
            "axis": axis.id,
            "from": here,
            "scan": [low, high],
            "points": points,
            "speed": speed,
            "unit": axis.unit,
            "estimated_s": _seconds(abs(here - low) + (high - low), speed),
        },
    )
    middle = (percent[0] + percent[1]) / 2
    xs, ys = await stage.scan(
        axis.id, low, high, points, speed, stage=name, percent=(percent[0], middle)
    )
    best, here = peak_position(xs, ys), xs[-1]
    await stage.confirm(
        f"Move {axis.id} to the signal peak at {best:g} {axis.unit}?",
        {
            "axis": axis.id,
            "from": here,
            "to": best,
            "signal": max(ys),
            "speed": speed,
            "unit": axis.unit,
            "estimated_s": _seconds(best - here, speed),
        },
    )
    position = await stage.move_to(
        axis.id, best, speed, stage=name, percent=(middle, percent[1]), message=f"{axis.id} to peak"
    )
    return _series(axis, xs, ys), position


# ------------------------------------------------------------------------------------ tasks


async def axis_movement(ctx: TaskContext[AxisMovementParams]) -> dict[str, Any]:
    """Move one axis by a distance or to a target, after a hazard confirmation."""
    p = ctx.params
    async with Stage(ctx, confirm_timeout=p.confirm_timeout) as stage:
        axis = stage.axis(p.axis)
        start = await stage.position(axis.id)
        # A relative move is confirmed and made as an absolute one: what the operator saw
        # is what happens.
        if p.mode == "absolute" and p.target is not None:
            target = p.target
        else:
            target = start + (p.distance or 0.0)
        if not axis.contains(target):
            raise TaskFailed(f"target {target:g} {axis.unit} is outside the soft limits")
        speed = p.speed or DEFAULT_SPEED[axis.unit]
        await stage.confirm(
            f"Move {axis.id} from {start:g} to {target:g} {axis.unit} at {speed:g} {axis.unit}/s?",
            {
                "axis": axis.id,
                "from": start,
                "to": target,
                "speed": speed,
                "unit": axis.unit,
                "estimated_s": _seconds(target - start, speed),
            },
        )
        position = await stage.move_to(
            axis.id, target, speed, stage="moving", message=f"Moving {axis.id}"
        )
    return {"axis": axis.id, "position": position, "target": target}


async def angle_adjustment(ctx: TaskContext[AngleAdjustmentParams]) -> dict[str, Any]:
    """Peak the signal over angular axes: a coarse then a fine scan, each confirmed first."""
    p = ctx.params
    plan = (("coarse", p.coarse_range, p.coarse_points), ("fine", p.fine_range, p.fine_points))
    block = 100 / (len(plan) * len(p.axes))
    phases: dict[str, dict[str, Any]] = {}
    async with Stage(ctx, confirm_timeout=p.confirm_timeout) as stage:
        axes = [stage.axis(axis_id) for axis_id in p.axes]
        centers = {axis.id: await stage.position(axis.id) for axis in axes}
        for number, (phase, width, points) in enumerate(plan):
            windows = {axis.id: _window(axis, centers[axis.id], width) for axis in axes}
            travel = sum(abs(centers[a] - lo) + 2 * (hi - lo) for a, (lo, hi) in windows.items())
            await stage.confirm(
                f"{phase.title()} angle scan of {', '.join(p.axes)} (±{width / 2:g} deg), then "
                "move each to its peak?",
                {
                    "phase": phase,
                    "points": points,
                    "speed": p.speed,
                    "unit": "deg",
                    "axes": {a: {"from": centers[a], "scan": list(w)} for a, w in windows.items()},
                    "estimated_s": _seconds(travel, p.speed),
                },
            )
            phases[phase] = {}
            for index, axis in enumerate(axes):
                first = (number * len(axes) + index) * block
                low, high = windows[axis.id]
                xs, ys = await stage.scan(
                    axis.id, low, high, points, p.speed, stage=phase, percent=(first, first + block)
                )
                best = peak_position(xs, ys)
                centers[axis.id] = await stage.move_to(axis.id, best, p.speed, report=False)
                phases[phase][axis.id] = {**_series(axis, xs, ys), "best": best}
        signal = await stage.read_signal()
    return {"position": centers, "signal": signal, "phases": phases}


async def focus_alignment(ctx: TaskContext[FocusAlignmentParams]) -> dict[str, Any]:
    """Scan the focus axis, then move to the signal peak (each motion confirmed first)."""
    p = ctx.params
    async with Stage(ctx, confirm_timeout=p.confirm_timeout) as stage:
        axis = stage.axis(p.axis)
        low, high = _focus_range(axis, p)
        scan, position = await _scan_then_peak(
            stage, axis, low, high, p.points, p.speed, "focus", (0, 100)
        )
        signal = await stage.read_signal()
    return {"axis": axis.id, "scan": scan, "position": position, "signal": signal}


async def flat_alignment(ctx: TaskContext[FlatAlignmentParams]) -> dict[str, Any]:
    """Peak the signal over the lateral axes: per axis, scan around it, then move to the peak."""
    p = ctx.params
    scans: dict[str, Any] = {}
    positions: dict[str, float] = {}
    block = 100 / len(p.axes)
    async with Stage(ctx, confirm_timeout=p.confirm_timeout) as stage:
        for index, axis_id in enumerate(p.axes):
            axis = stage.axis(axis_id)
            low, high = _window(axis, await stage.position(axis_id), p.span)
            scans[axis_id], positions[axis_id] = await _scan_then_peak(
                stage,
                axis,
                low,
                high,
                p.points,
                p.speed,
                "flat",
                (index * block, (index + 1) * block),
            )
        signal = await stage.read_signal()
    return {"axes": p.axes, "scans": scans, "position": positions, "signal": signal}


async def profile_measurement(ctx: TaskContext[ProfileParams]) -> dict[str, Any]:
    """Scan an axis and record the signal; the series is also a CSV artifact."""
    p = ctx.params
    async with Stage(ctx, confirm_timeout=p.confirm_timeout) as stage:
        axis = stage.axis(p.axis)
        here = await stage.position(axis.id)
        await stage.confirm(
            f"Measure a profile along {axis.id} from {p.start:g} to {p.stop:g} {axis.unit} "
            f"in {p.points} points?",
            {
                "axis": axis.id,
                "from": here,
                "scan": [p.start, p.stop],
                "points": p.points,
                "speed": p.speed,
                "unit": axis.unit,
                "estimated_s": _seconds(abs(here - p.start) + abs(p.stop - p.start), p.speed),
            },
        )
        xs, ys = await stage.scan(axis.id, p.start, p.stop, p.points, p.speed, stage="measuring")
    rows = "".join(f"{x!r},{y!r}\n" for x, y in zip(xs, ys, strict=True))
    ctx.add_artifact("profile.csv", f"position,signal\n{rows}".encode(), "text/csv")
    return {
        "axis": axis.id,
        "series": _series(axis, xs, ys),
        "points": len(xs),
        "artifact": "profile.csv",
    }


def register(registry: TaskRegistry) -> None:
    registry.task(
        "axis_movement",
        params=AxisMovementParams,
        check=check_axis_movement,
        resources=lambda p: axis_resources(p.axis),
    )(axis_movement)
    whole_controller = (
        ("angle_adjustment", AngleAdjustmentParams, check_angle_adjustment, angle_adjustment),
        ("focus_alignment", FocusAlignmentParams, check_focus_alignment, focus_alignment),
        ("flat_alignment", FlatAlignmentParams, check_flat_alignment, flat_alignment),
        ("profile_measurement", ProfileParams, check_profile, profile_measurement),
    )
    # The detector signal depends on every axis, so these hold the whole controller.
    for name, params, check, fn in whole_controller:
        registry.task(name, params=params, check=check, resources=lambda _p: CONTROLLER)(fn)
