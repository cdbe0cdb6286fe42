"""Parameters of the motion tasks (:mod:`interlock.tasks.motion`) and their submission checks.

Parameters that the controller can check (axis names and units, soft limits, speeds, scan
widths and steps; see :mod:`interlock.hardware.limits`) are checked at submission by the
``check_*`` functions, so a violation is a 422 on the field, naming the unit, and nobody is
asked anything. Every axis-id parameter is marked for the console (:data:`WIDGET`).

The ``check_*`` functions may run in a worker thread and may block on the controller. They
are thread-safe: they only read their arguments and call controller methods, which the
``Controller`` protocol makes thread-safe.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from ..exceptions import InvalidParameters
from ..hardware.controller import Axis, Controller
from ..hardware.errors import MotionLimitError
from ..hardware.limits import UNIT_LIMITS, check_step, check_width, speed_for, unit_label
from ..stage import controller_of

WIDGET = "x-interlock-widget"
"""JSON-schema key telling the console how to render a parameter; ``"axis"``: a select of the
axes ``GET /hardware`` lists."""

AxisId = Annotated[str, Field(json_schema_extra={WIDGET: "axis"})]
"""An axis id parameter; its JSON schema carries ``"x-interlock-widget": "axis"``."""


def confirm_timeout_field() -> Any:
    """The ``confirm_timeout`` parameter every motion task takes."""
    return Field(
        300.0, gt=0, le=86_400, description="Seconds to wait for each Yes; no answer is a No"
    )


def _points() -> Any:
    return Field(51, ge=3, le=1001, description="Points per scan")


def any_unit_speed_field() -> Any:
    """A ``speed`` parameter for axes of any unit (None: the unit's default)."""
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
    speed: float | None = any_unit_speed_field()
    confirm_timeout: float = confirm_timeout_field()

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
    confirm_timeout: float = confirm_timeout_field()


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
    speed: float | None = any_unit_speed_field()
    confirm_timeout: float = confirm_timeout_field()


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
    confirm_timeout: float = confirm_timeout_field()


class ProfileParams(BaseModel):
    axis: AxisId = Field("x", description="Axis id, as GET /hardware lists them")
    start: float = Field(allow_inf_nan=False, description="First position, in the axis unit")
    stop: float = Field(allow_inf_nan=False, description="Last position, in the axis unit")
    points: int = Field(101, ge=2, le=10_001, description="Points of the profile")
    speed: float | None = any_unit_speed_field()
    confirm_timeout: float = confirm_timeout_field()


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
    start, stop = focus_range(axis, params)
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


def focus_range(axis: Axis, params: FocusAlignmentParams) -> tuple[float, float]:
    """The focus scan's ``(start, stop)``: the given ones, else the axis' soft limits."""
    start = axis.min if params.start is None else params.start
    return start, axis.max if params.stop is None else params.stop
