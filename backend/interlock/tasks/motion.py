"""Motion tasks: move an axis, adjust angles, align focus and flat, measure a profile.

Every motion is asked for first with a ``hazard`` confirmation (No, or no answer, ends the
task ``declined`` with nothing moved), runs through a :class:`Stage` (stops at once on cancel,
reports progress, stops every touched axis if the task ends early), and the task holds its
axes: a second task on the same axis gets 409. Parameters that the controller can check
(axis names and units, soft limits, speeds, scan widths and steps; see
:mod:`interlock.hardware.limits`) are checked at submission, so a violation is a 422 on the
field.

The ``check_*`` functions may run in a worker thread and may block on the controller. They
are thread-safe: they only read their arguments and call controller methods, which the
``Controller`` protocol makes thread-safe.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..exceptions import InvalidParameters, TaskFailed
from ..hardware.controller import Axis, Controller
from ..hardware.errors import MotionLimitError
from ..hardware.limits import (
    UNIT_LIMITS,
    check_step,
    check_width,
    speed_for,
    unit_label,
)
from ..hardware.peak import peak_position
from ..hardware.resources import CONTROLLER, axis_resources
from ..runtime import TaskContext
from ..stage import Stage, controller_of
from .registry import TaskRegistry

WIDGET = "x-interlock-widget"
"""JSON-schema key telling the console how to render a parameter; ``"axis"``: a select of the
axes ``GET /hardware`` lists."""

AxisId = Annotated[str, Field(json_schema_extra={WIDGET: "axis"})]
"""An axis id parameter; its JSON schema carries ``"x-interlock-widget": "axis"``."""

_UM, _DEG = UNIT_LIMITS["um"], UNIT_LIMITS["deg"]


def _confirm_timeout() -> Any:
    return Field(
        300.0, gt=0, le=86_400, description="Seconds to wait for each Yes; no answer is a No"
    )


def _points() -> Any:
    return Field(51, ge=3, le=1001, description="Points per scan")


def _any_unit_speed() -> Any:
    defaults = ", ".join(
        f"{limits.default_speed:g} {unit_label(unit)}/s" for unit, limits in UNIT_LIMITS.items()
    )
    bounds = ", ".join(
        f"{limits.min_speed:g} to {limits.max_speed:g} {unit_label(unit)}/s"
        for unit, limits in UNIT_LIMITS.items()
    )
    return Field(
        None,
        gt=0,
        allow_inf_nan=False,
        description=f"Axis unit per second: {bounds} (default {defaults}); "
        "required for axes in other units",
    )


def _speed_in(unit: str) -> Any:
    limits, label = UNIT_LIMITS[unit], unit_label(unit)
    return Field(
        limits.default_speed,
        gt=0,
        allow_inf_nan=False,
        description=f"{label}/s, {limits.min_speed:g} to {limits.max_speed:g}",
    )


class AxisMovementParams(BaseModel):
    axis: AxisId = Field("x", description="Axis id, as GET /hardware lists them")
    mode: Literal["relative", "absolute"] = "relative"
    distance: float | None = Field(
        None,
        allow_inf_nan=False,
        validate_default=True,
        description="Relative moves: distance in the axis unit (µm for x, y, z; deg for tx, ty)",
    )
    target: float | None = Field(
        None,
        allow_inf_nan=False,
        validate_default=True,
        description="Absolute moves: target position in the axis unit",
    )
    speed: float | None = _any_unit_speed()
    confirm_timeout: float = _confirm_timeout()

    @field_validator("distance", "target")
    @classmethod
    def _needed_by_mode(cls, value: float | None, info: ValidationInfo) -> float | None:
        needs = "distance" if info.data.get("mode") == "relative" else "target"
        if value is None and info.field_name == needs and "mode" in info.data:
            raise ValueError(f"{needs} is required for a {info.data['mode']} move")
        return value


class AngleAdjustmentParams(BaseModel):
    axes: list[AxisId] = Field(
        default_factory=lambda: ["tx", "ty"],
        min_length=1,
        max_length=4,
        description="Angular (deg) axes to adjust, one after the other",
    )
    coarse_range: float = Field(
        2.0, gt=0, allow_inf_nan=False, description="Coarse scan width (deg) around each axis"
    )
    coarse_points: int = Field(11, ge=3, le=201, description="Points per coarse scan")
    fine_range: float = Field(
        0.4, gt=0, allow_inf_nan=False, description="Fine scan width (deg) around each peak"
    )
    fine_points: int = Field(11, ge=3, le=201, description="Points per fine scan")
    speed: float = _speed_in("deg")
    confirm_timeout: float = _confirm_timeout()


class FocusAlignmentParams(BaseModel):
    axis: AxisId = Field("z", description="The focus (optical) axis")
    start: float | None = Field(
        None,
        allow_inf_nan=False,
        description="Scan start in the axis unit (µm for z); default: the lower soft limit",
    )
    stop: float | None = Field(
        None,
        allow_inf_nan=False,
        description="Scan end in the axis unit (µm for z); default: the upper soft limit",
    )
    points: int = _points()
    speed: float | None = _any_unit_speed()
    confirm_timeout: float = _confirm_timeout()


class FlatAlignmentParams(BaseModel):
    axes: list[AxisId] = Field(
        default_factory=lambda: ["x", "y"],
        min_length=1,
        max_length=4,
        description="Lateral (µm) axes, aligned one after the other",
    )
    span: float = Field(
        500.0,
        gt=0,
        allow_inf_nan=False,
        description="Scan width in µm, centred on each axis' position",
    )
    points: int = _points()
    speed: float = _speed_in("um")
    confirm_timeout: float = _confirm_timeout()


class ProfileParams(BaseModel):
    axis: AxisId = Field("x", description="Axis id, as GET /hardware lists them")
    start: float = Field(allow_inf_nan=False, description="First position, in the axis unit")
    stop: float = Field(allow_inf_nan=False, description="Last position, in the axis unit")
    points: int = Field(101, ge=2, le=10_001, description="Points of the profile")
    speed: float | None = _any_unit_speed()
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
        raise _invalid(
            field, f"axis {axis_id!r} is in {unit_label(axis.unit)}, not {unit_label(unit)}"
        )
    return axis


def _within(axis: Axis, position: float, field: str) -> None:
    if not axis.contains(position):
        label = unit_label(axis.unit)
        limits = f"[{axis.min:g}, {axis.max:g}] {label}"
        raise _invalid(
            field, f"{position:g} {label} is outside the soft limits of {axis.id} {limits}"
        )


def _speed(axis: Axis, speed: float | None) -> None:
    try:
        speed_for(axis, speed)
    except MotionLimitError as exc:
        raise _invalid("speed", str(exc)) from None


def _scan(axis: Axis, width: float, points: int, width_field: str, points_field: str) -> None:
    """A scan of ``points`` over ``width`` fits the axis' travel and resolution."""
    try:
        check_width(axis, width)
    except MotionLimitError as exc:
        raise _invalid(width_field, str(exc)) from None
    try:
        check_step(axis, width, points)
    except MotionLimitError as exc:
        raise _invalid(points_field, str(exc)) from None


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
        # Where the axis is now: this check may block on the controller (see the module doc).
        _within(axis, controller.position(axis.id) + params.distance, "distance")


def check_angle_adjustment(params: AngleAdjustmentParams, services: dict[str, Any]) -> None:
    controller = controller_of(services)
    _different(params.axes)
    for index, axis_id in enumerate(params.axes):
        axis = _axis(controller, axis_id, f"axes.{index}", unit="deg")
        _speed(axis, params.speed)
        _scan(axis, params.coarse_range, params.coarse_points, "coarse_range", "coarse_points")
        _scan(axis, params.fine_range, params.fine_points, "fine_range", "fine_points")


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
    _scan(axis, abs(stop - start), params.points, "stop", "points")


def check_flat_alignment(params: FlatAlignmentParams, services: dict[str, Any]) -> None:
    controller = controller_of(services)
    _different(params.axes)
    for index, axis_id in enumerate(params.axes):
        axis = _axis(controller, axis_id, f"axes.{index}", unit="um")
        _speed(axis, params.speed)
        _scan(axis, params.span, params.points, "span", "points")


def check_profile(params: ProfileParams, services: dict[str, Any]) -> None:
    axis = _axis(controller_of(services), params.axis, "axis")
    _speed(axis, params.speed)
    _within(axis, params.start, "start")
    _within(axis, params.stop, "stop")
    if params.start == params.stop:
        raise _invalid("stop", "stop must differ from start")
    _scan(axis, abs(params.stop - params.start), params.points, "stop", "points")


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
    label = f"{axis.id} ({unit_label(axis.unit)})"
    return {"x": xs, "y": ys, "x_label": label, "y_label": "signal"}


def _speed_of(axis: Axis, speed: float | None) -> float:
    """The speed to move ``axis`` at (the unit's default for None), re-checked at run time."""
    try:
        return speed_for(axis, speed)
    except MotionLimitError as exc:
        raise TaskFailed(f"speed: {exc}") from None


def _in_unit(axis: Axis, unit: str) -> Axis:
    if axis.unit != unit:
        raise TaskFailed(f"axis {axis.id} is in {unit_label(axis.unit)}, not {unit_label(unit)}")
    return axis


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
        f"Scan {axis.id} from {low:g} to {high:g} {unit_label(axis.unit)} in {points} points?",
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
        f"Move {axis.id} to the signal peak at {best:g} {unit_label(axis.unit)}?",
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
        label = unit_label(axis.unit)
        if not axis.contains(target):
            raise TaskFailed(f"target {target:g} {label} is outside the soft limits")
        speed = _speed_of(axis, p.speed)
        await stage.confirm(
            f"Move {axis.id} from {start:g} to {target:g} {label} at {speed:g} {label}/s?",
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
        axes = [_in_unit(stage.axis(axis_id), "deg") for axis_id in p.axes]
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
        speed = _speed_of(axis, p.speed)
        scan, position = await _scan_then_peak(
            stage, axis, low, high, p.points, speed, "focus", (0, 100)
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
            axis = _in_unit(stage.axis(axis_id), "um")
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
        speed = _speed_of(axis, p.speed)
        here = await stage.position(axis.id)
        await stage.confirm(
            f"Measure a profile along {axis.id} from {p.start:g} to {p.stop:g} "
            f"{unit_label(axis.unit)} in {p.points} points?",
            {
                "axis": axis.id,
                "from": here,
                "scan": [p.start, p.stop],
                "points": p.points,
                "speed": speed,
                "unit": axis.unit,
                "estimated_s": _seconds(abs(here - p.start) + abs(p.stop - p.start), speed),
            },
        )
        xs, ys = await stage.scan(axis.id, p.start, p.stop, p.points, speed, stage="measuring")
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
