"""Sane motion parameters per axis unit: speed bounds, default speeds, resolution, timeouts.

A speed, span or step is only meaningful in the unit of the axis it is applied to: 1000 is a
brisk speed in µm/s and a dangerous one in deg/s, and ``5e-324`` is positive but makes a move
last forever. Every motion parameter is checked here, once at submission (a 422 naming the
field and the unit) and again by :class:`~interlock.stage.Stage` before any command.

Units are identified by the axis' ``unit`` string (``"um"``, ``"deg"``); :func:`unit_label`
turns one into human text (``"µm"``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .controller import Axis
from .errors import MotionLimitError


@dataclass(frozen=True, slots=True)
class UnitLimits:
    """What is sane for one unit. Speeds are unit/s, ``resolution`` is in the unit."""

    min_speed: float
    """Slowest speed a task may ask for: below it a move is a stall, not a motion."""
    max_speed: float
    """Fastest speed a task may ask for."""
    default_speed: float
    """Speed used when a task's ``speed`` is left out."""
    resolution: float
    """Smallest step between two scan points; finer steps measure noise, not the signal."""


#: Limits per axis unit. Axes in other units need an explicit speed (at least
#: :data:`MIN_SPEED_ANY_UNIT`), and their scan steps are bounded by :data:`RELATIVE_RESOLUTION`.
UNIT_LIMITS: dict[str, UnitLimits] = {
    "um": UnitLimits(min_speed=1.0, max_speed=10_000.0, default_speed=1_000.0, resolution=0.01),
    "mm": UnitLimits(min_speed=0.001, max_speed=10.0, default_speed=1.0, resolution=0.00001),
    "deg": UnitLimits(min_speed=0.01, max_speed=20.0, default_speed=2.0, resolution=0.0001),
}

MIN_SPEED_ANY_UNIT = 0.001
"""Absolute floor (unit/s) for a speed on an axis whose unit is not in :data:`UNIT_LIMITS`."""

RELATIVE_RESOLUTION = 1e-6
"""For units not in :data:`UNIT_LIMITS`: the smallest scan step as a fraction of the travel."""

_LABELS = {"um": "µm"}


def unit_label(unit: str) -> str:
    """The unit as people write it: ``"µm"`` for ``"um"``, other units unchanged."""
    return _LABELS.get(unit, unit)


def limits_for(unit: str) -> UnitLimits | None:
    """The limits of ``unit``, or None when it has none built in."""
    return UNIT_LIMITS.get(unit)


def default_speed(axis: Axis) -> float | None:
    """The speed used when none is given, or None when the axis' unit has no default."""
    limits = limits_for(axis.unit)
    return None if limits is None else limits.default_speed


def check_speed(axis: Axis, speed: float) -> float:
    """Return ``speed`` if it is sane for ``axis``; raise :class:`MotionLimitError` if not.

    Sane means finite and within the unit's ``[min_speed, max_speed]``; for a unit without
    built-in limits, finite and at least :data:`MIN_SPEED_ANY_UNIT`. The message names the
    axis and the unit.
    """
    label = unit_label(axis.unit)
    limits = limits_for(axis.unit)
    if not math.isfinite(speed):
        raise MotionLimitError(f"speed must be a finite number of {label}/s for axis {axis.id}")
    if limits is None:
        if speed < MIN_SPEED_ANY_UNIT:
            raise MotionLimitError(
                f"at least {MIN_SPEED_ANY_UNIT:g} {label}/s for axis {axis.id} "
                f"(in {label}, which has no built-in speed limits)"
            )
        return speed
    if speed < limits.min_speed:
        raise MotionLimitError(f"at least {limits.min_speed:g} {label}/s for axis {axis.id}")
    if speed > limits.max_speed:
        raise MotionLimitError(f"at most {limits.max_speed:g} {label}/s for axis {axis.id}")
    return speed


def speed_for(axis: Axis, speed: float | None) -> float:
    """``speed``, or the unit's default when it is None, checked with :func:`check_speed`."""
    if speed is None:
        speed = default_speed(axis)
        if speed is None:
            label = unit_label(axis.unit)
            raise MotionLimitError(
                f"required for axis {axis.id} (in {label}, which has no default speed)"
            )
    return check_speed(axis, speed)


def travel(axis: Axis) -> float:
    """The length of the axis' range between its soft limits, in its unit."""
    return axis.max - axis.min


def resolution(axis: Axis) -> float:
    """The smallest step a scan on ``axis`` may take, in its unit."""
    limits = limits_for(axis.unit)
    return travel(axis) * RELATIVE_RESOLUTION if limits is None else limits.resolution


def check_width(axis: Axis, width: float) -> None:
    """Raise :class:`MotionLimitError` if a scan ``width`` exceeds the axis' travel."""
    if width > travel(axis):
        label = unit_label(axis.unit)
        raise MotionLimitError(
            f"{width:g} {label} is wider than the travel of {axis.id} ({travel(axis):g} {label})"
        )


def check_step(axis: Axis, width: float, points: int) -> None:
    """Raise :class:`MotionLimitError` if ``points`` points over ``width`` lie closer together
    than the axis' :func:`resolution`; the message says how many points would fit."""
    step, finest = abs(width) / (points - 1), resolution(axis)
    if step < finest:
        label = unit_label(axis.unit)
        most = max(2, math.floor(abs(width) / finest) + 1)
        raise MotionLimitError(
            f"{points} points over {abs(width):g} {label} are {step:g} {label} apart, finer "
            f"than the {finest:g} {label} resolution of {axis.id}; use at most {most} points"
        )


@dataclass(frozen=True, slots=True)
class TravelTimeout:
    """How long one move may take before it counts as stuck and is stopped.

    ``seconds(distance, speed) = slack * |distance| / speed + ramp + margin``: the cruise time
    with ``slack`` for a controller whose real speed falls short of the commanded one, plus
    ``ramp`` seconds for accelerating and decelerating, plus ``margin`` seconds for settling,
    polling and the controller link.
    """

    slack: float = 1.5
    ramp: float = 2.0
    margin: float = 5.0

    def __post_init__(self) -> None:
        if not (self.slack >= 1 and self.ramp >= 0 and self.margin > 0):
            raise ValueError("need slack >= 1, ramp >= 0 and margin > 0")

    def seconds(self, distance: float, speed: float) -> float:
        """The timeout of a move over ``distance`` at ``speed`` (same unit)."""
        if not (math.isfinite(speed) and speed > 0):
            raise ValueError(f"speed must be positive and finite, not {speed}")
        return self.slack * abs(distance) / speed + self.ramp + self.margin


DEFAULT_TRAVEL_TIMEOUT = TravelTimeout()
"""The timeout of every move unless a caller says otherwise."""
