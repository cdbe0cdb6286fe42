"""Motion tasks: move an axis, adjust angles, align focus and flat, measure a profile.

Every motion is asked for first with a ``hazard`` confirmation (No, or no answer, ends the
task ``declined`` with nothing moved), runs through a :class:`Stage` (stops at once on cancel,
reports progress, stops every touched axis if the task ends early), and the task holds its
axes: a second task on the same axis gets 409. The parameters and their submission checks
live in :mod:`interlock.tasks.motion_params`.
"""

from __future__ import annotations

from typing import Any

from ..auth.roles import Role
from ..exceptions import TaskFailed
from ..hardware.controller import Axis
from ..hardware.errors import MotionLimitError
from ..hardware.limits import speed_for, unit_label
from ..hardware.peak import peak_position
from ..hardware.resources import CONTROLLER, axis_resources
from ..runtime import TaskContext
from ..stage import Stage
from .motion_params import (
    AngleAdjustmentParams,
    AxisMovementParams,
    FlatAlignmentParams,
    FocusAlignmentParams,
    ProfileParams,
    check_angle_adjustment,
    check_axis_movement,
    check_flat_alignment,
    check_focus_alignment,
    check_profile,
    focus_range,
)
from .registry import TaskRegistry

# ---------------------------------------------------------------------------------- helpers


def _window(axis: Axis, center: float, width: float) -> tuple[float, float]:
    return max(axis.min, center - width / 2), min(axis.max, center + width / 2)


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
        low, high = focus_range(axis, p)
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
    # Motion needs an operator (stated, not left to the default: it moves hardware).
    registry.task(
        "axis_movement",
        params=AxisMovementParams,
        check=check_axis_movement,
        resources=lambda p: axis_resources(p.axis),
        role=Role.OPERATOR,
    )(axis_movement)
    whole_controller = (
        ("angle_adjustment", AngleAdjustmentParams, check_angle_adjustment, angle_adjustment),
        ("focus_alignment", FocusAlignmentParams, check_focus_alignment, focus_alignment),
        ("flat_alignment", FlatAlignmentParams, check_flat_alignment, flat_alignment),
        ("profile_measurement", ProfileParams, check_profile, profile_measurement),
    )
    # The detector signal depends on every axis, so these hold the whole controller.
    for name, params, check, fn in whole_controller:
        registry.task(
            name, params=params, check=check, resources=lambda _p: CONTROLLER, role=Role.OPERATOR
        )(fn)
