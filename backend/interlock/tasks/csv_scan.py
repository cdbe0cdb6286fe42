"""``csv_scan``: visit the positions listed in an uploaded CSV file, reading the signal at each.

The file (a task input file, see :mod:`interlock.uploads`) has a header naming the axes
(``x`` or ``x,y``…) and one row of positions per point, in the axis units. It is checked when
the task is submitted (:mod:`interlock.tasks.positions`: 422 naming line and column), then
one ``hazard`` confirmation shows the number of points and the extent of the path; Yes visits
each point in order (axes one after the other, in header order), reports progress and reads
the signal. The readings are the result and a CSV artifact. Like the other motion tasks it
stops what it touched when it ends early, and holds the whole controller.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from ..auth.roles import Role
from ..exceptions import InvalidParameters, TaskFailed
from ..hardware.controller import Axis
from ..hardware.errors import MotionLimitError
from ..hardware.limits import speed_for, unit_label
from ..hardware.resources import CONTROLLER
from ..runtime import TaskContext
from ..stage import Stage, controller_of
from ..uploads import InputFile
from ..uploads.fields import uploads_of
from .motion_params import any_unit_speed_field, confirm_timeout_field
from .positions import MAX_POINTS, Positions, read_positions
from .registry import TaskRegistry

ARTIFACT = "csv_scan.csv"


class CsvScanParams(BaseModel):
    positions: Annotated[str, InputFile(suffixes=(".csv",))] = Field(
        description="CSV file: a header naming the axes (e.g. x,y), then one row of "
        f"positions per point in the axis units (at most {MAX_POINTS})"
    )
    speed: float | None = any_unit_speed_field()
    confirm_timeout: float = confirm_timeout_field()


def _speeds(axes: list[Axis], speed: float | None) -> dict[str, float]:
    """The speed of each axis (the unit's default for None); MotionLimitError if not sane."""
    return {axis.id: speed_for(axis, speed) for axis in axes}


def check_csv_scan(params: CsvScanParams, services: dict[str, Any]) -> None:
    """Submission check: the file's positions fit the controller, the speed fits each axis.
    Reads the file and asks the controller: runs in a worker thread."""
    axes = {axis.id: axis for axis in controller_of(services).axes()}
    path = uploads_of(services).path(params.positions)
    plan = read_positions(path, axes, "positions")
    try:
        _speeds([axes[a] for a in plan.axes], params.speed)
    except MotionLimitError as exc:
        raise InvalidParameters([{"field": "speed", "message": str(exc)}]) from None


def _estimate(plan: Positions, start: dict[str, float], speeds: dict[str, float]) -> float:
    """Seconds of travel at cruise speed, axes one after the other (ramps ignored)."""
    here, seconds = dict(start), 0.0
    for point in plan.points:
        for axis, target in zip(plan.axes, point, strict=True):
            seconds += abs(target - here[axis]) / speeds[axis]
            here[axis] = target
    return round(seconds, 3)


def _artifact(axes: tuple[str, ...], readings: list[dict[str, float]]) -> bytes:
    columns = [*axes, "signal"]
    rows = "".join(",".join(repr(r[c]) for c in columns) + "\n" for r in readings)
    return (",".join(columns) + "\n" + rows).encode()


async def csv_scan(ctx: TaskContext[CsvScanParams]) -> dict[str, Any]:
    """Visit the positions listed in an uploaded CSV file, reading the signal at each."""
    p = ctx.params
    upload = await ctx.input_file("positions")
    async with Stage(ctx, confirm_timeout=p.confirm_timeout) as stage:
        axes = {axis.id: axis for axis in await stage.call(stage.controller.axes)}
        try:
            plan = await ctx.run_blocking(
                read_positions, ctx.input_path("positions"), axes, "positions"
            )
            speeds = _speeds([axes[a] for a in plan.axes], p.speed)
        # Checked at submission; only a controller that changed since fails here.
        except InvalidParameters as exc:
            raise TaskFailed("; ".join(e["message"] for e in exc.errors)) from None
        except MotionLimitError as exc:
            raise TaskFailed(f"speed: {exc}") from None
        start = {axis: await stage.position(axis) for axis in plan.axes}
        extent = plan.extent()
        count = len(plan.points)
        span = ", ".join(
            f"{a} {lo:g} to {hi:g} {unit_label(axes[a].unit)}" for a, (lo, hi) in extent.items()
        )
        await stage.confirm(
            f"Visit {count} positions from {upload.filename} ({span})?",
            {
                "file": upload.filename,
                "sha256": upload.sha256,
                "points": count,
                "axes": {
                    a: {
                        "from": start[a],
                        "extent": list(extent[a]),
                        "speed": speeds[a],
                        "unit": axes[a].unit,
                    }
                    for a in plan.axes
                },
                "estimated_s": _estimate(plan, start, speeds),
            },
        )
        readings: list[dict[str, float]] = []
        for index, point in enumerate(plan.points, start=1):
            reached = {}
            for axis, target in zip(plan.axes, point, strict=True):
                reached[axis] = await stage.move_to(axis, target, speeds[axis], report=False)
            signal = await stage.read_signal()
            readings.append({**reached, "signal": signal})
            await ctx.progress(
                100 * index / count,
                f"point {index}/{count}",
                "scanning",
                {"point": index, "points": count, "position": reached, "signal": signal},
            )
    ctx.add_artifact(ARTIFACT, _artifact(plan.axes, readings), "text/csv")
    return {
        "file": upload.filename,
        "axes": list(plan.axes),
        "points": count,
        "readings": readings,
        "artifact": ARTIFACT,
    }


def register(registry: TaskRegistry) -> None:
    # The signal depends on every axis: the scan holds the whole controller.
    registry.task(
        "csv_scan",
        params=CsvScanParams,
        title="CSV position scan",
        check=check_csv_scan,
        resources=lambda _p: CONTROLLER,
        role=Role.OPERATOR,  # it moves hardware
    )(csv_scan)
