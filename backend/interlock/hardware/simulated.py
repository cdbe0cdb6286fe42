"""A simulated motion controller with trapezoidal motion and a gaussian optical signal.

Motion is computed analytically from the time a command was given, so there is no
background thread: positions are exact, cheap to sample and reproducible with an injected
clock.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field

from .controller import Axis, AxisStatus
from .errors import (
    AxisBusyError,
    ControllerDisconnected,
    HardwareError,
    SoftLimitError,
    UnknownAxisError,
    stop_each,
)
from .reconnect import Backoff, BackoffOptions, Reconnector

DEFAULT_AXES: tuple[Axis, ...] = (
    Axis("x", "X (lateral)", "um", -10_000.0, 10_000.0),
    Axis("y", "Y (lateral)", "um", -10_000.0, 10_000.0),
    Axis("z", "Z (focus)", "um", 0.0, 5_000.0),
    Axis("tx", "Tilt X", "deg", -5.0, 5.0),
    Axis("ty", "Tilt Y", "deg", -5.0, 5.0),
)

# Fast enough that short test moves take milliseconds, slow enough to see a trapezoid.
DEFAULT_ACCELERATION: Mapping[str, float] = {"um": 20_000.0, "deg": 50.0}


@dataclass(frozen=True)
class SignalModel:
    """Optical power as a gaussian peak over the axes named in ``center``.

    ``power = background + peak * exp(-sum(((p - center) / width) ** 2) / 2) + noise``, with
    gaussian noise of standard deviation ``noise``, clipped at zero like a real detector.
    Axes not named in ``center`` do not affect the signal.
    """

    center: Mapping[str, float] = field(
        default_factory=lambda: {"x": 120.0, "y": -80.0, "z": 2_500.0, "tx": 0.3, "ty": -0.2}
    )
    width: Mapping[str, float] = field(
        default_factory=lambda: {"x": 50.0, "y": 50.0, "z": 500.0, "tx": 1.0, "ty": 1.0}
    )
    peak: float = 1.0
    noise: float = 0.002
    background: float = 0.0

    def __post_init__(self) -> None:
        missing = sorted(set(self.center) - set(self.width))
        if missing:
            raise ValueError(f"signal width missing for axes: {', '.join(missing)}")
        if any(w <= 0 for w in self.width.values()):
            raise ValueError("signal widths must be positive")

    def ideal(self, positions: Mapping[str, float]) -> float:
        """The noise-free power at ``positions``."""
        exponent = sum(((positions[a] - c) / self.width[a]) ** 2 for a, c in self.center.items())
        return self.background + self.peak * math.exp(-exponent / 2)


@dataclass(frozen=True, slots=True)
class _Profile:
    """Motion from ``(t0, p0, v0)`` through phases of constant acceleration.

    Each phase is ``(duration, acceleration)``; after the last one the axis rests at
    ``final``, which is stored rather than integrated so a move ends exactly on target.
    """

    t0: float
    p0: float
    v0: float
    phases: tuple[tuple[float, float], ...]
    final: float

    @property
    def end(self) -> float:
        return self.t0 + sum(duration for duration, _ in self.phases)

    def sample(self, t: float) -> tuple[float, float]:
        """Position and velocity at time ``t``."""
        if t >= self.end:
            return self.final, 0.0
        p, v, left = self.p0, self.v0, max(0.0, t - self.t0)
        for duration, acc in self.phases:
            step = min(left, duration)
            p += v * step + acc * step * step / 2
            v += acc * step
            left -= step
            if left <= 0:
                break
        return p, v

    @classmethod
    def rest(cls, t: float, position: float) -> _Profile:
        return cls(t, position, 0.0, (), position)

    @classmethod
    def move(cls, t: float, start: float, target: float, speed: float, acc: float) -> _Profile:
        """A trapezoidal move from rest; triangular when too short to reach ``speed``."""
        distance = abs(target - start)
        sign = 1.0 if target >= start else -1.0
        peak = min(speed, math.sqrt(distance * acc))
        ramp = peak / acc
        cruise = (distance - peak * ramp) / peak if peak > 0 else 0.0
        phases = ((ramp, sign * acc), (max(0.0, cruise), 0.0), (ramp, -sign * acc))
        return cls(t, start, 0.0, phases, target)

    def stopped(self, t: float, dec: float) -> _Profile:
        """This motion, decelerated to rest from whatever velocity it has at ``t``."""
        p, v = self.sample(t)
        if v == 0.0:
            return _Profile.rest(t, p)
        sign = 1.0 if v > 0 else -1.0
        return _Profile(t, p, v, ((abs(v) / dec, -sign * dec),), p + sign * v * v / (2 * dec))


class SimulatedAxisOptions(BaseModel):
    """One simulated axis."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    name: str = ""
    unit: str = Field(default="um", description="'um', 'mm', 'deg' or any other unit")
    min: float
    max: float


class SimulatedOptions(BaseModel):
    """Options of the ``simulated`` controller (all optional)."""

    model_config = ConfigDict(extra="forbid")

    axes: list[SimulatedAxisOptions] | None = Field(
        default=None, min_length=1, description="The axes; the default five-axis stage if unset"
    )
    acceleration: float | dict[str, float] | None = Field(
        default=None, description="unit/s^2, for every axis or by axis id"
    )
    positions: dict[str, float] | None = Field(default=None, description="Start positions")
    seed: int | None = Field(default=0, description="Seed of the signal noise")
    reconnect: BackoffOptions = Field(default_factory=BackoffOptions)


class SimulatedController:
    """A :class:`~interlock.hardware.controller.Controller` that simulates a stage.

    Built by the registry as ``SimulatedController(SimulatedOptions(...))``, or in code with
    the keyword arguments: ``acceleration`` is one value for every axis or a mapping by axis
    id; axes left out get :data:`DEFAULT_ACCELERATION` for their unit. Acceleration and
    deceleration are equal. ``seed`` makes the signal noise reproducible; ``clock`` replaces
    ``time.monotonic``.

    Fault injection for tests: ``stop`` raises :class:`HardwareError` for the axes in
    ``fail_stop_on`` and leaves them moving, as a lost command would. :meth:`break_link`
    cuts the simulated link (the axes keep doing what they were doing, as a controller's
    firmware would); :meth:`restore_link` mends it, and the controller's reconnector finds
    it with backoff.
    """

    name = "simulated"
    Options = SimulatedOptions

    def __init__(
        self,
        axes: Sequence[Axis] | SimulatedOptions = DEFAULT_AXES,
        *,
        acceleration: float | Mapping[str, float] | None = None,
        positions: Mapping[str, float] | None = None,
        signal: SignalModel | None = None,
        seed: int | None = 0,
        clock: Callable[[], float] = time.monotonic,
        fail_stop_on: Iterable[str] = (),
        backoff: Backoff | None = None,
    ) -> None:
        if isinstance(axes, SimulatedOptions):
            options = axes
            axes = DEFAULT_AXES
            if options.axes is not None:
                axes = [Axis(a.id, a.name or a.id, a.unit, a.min, a.max) for a in options.axes]
            acceleration, positions = options.acceleration, options.positions
            seed, backoff = options.seed, Backoff.of(options.reconnect)
        self._axes = {axis.id: axis for axis in axes}
        if len(self._axes) != len(axes) or not axes:
            raise ValueError("axes must be a non-empty sequence with unique ids")
        self._signal = signal or self._default_signal()
        self._fail_stop_on = frozenset(fail_stop_on)
        self._check_known([*self._signal.center, *(positions or {}), *self._fail_stop_on])
        self._acc = {a.id: self._acceleration_for(a, acceleration) for a in axes}
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._closed = False
        self._link_up = True  # the simulated cable
        self._connected = True  # whether the controller knows it has a link
        self._down_reason = ""
        self._last_seen: dict[str, float] = {}
        self._reconnector = Reconnector(self.name, self._try_reconnect, backoff)
        now = clock()
        self._motion: dict[str, _Profile] = {}
        for axis in axes:
            start = (positions or {}).get(axis.id, min(max(0.0, axis.min), axis.max))
            if not axis.contains(start):
                raise SoftLimitError(axis.id, start, axis.min, axis.max)
            self._motion[axis.id] = _Profile.rest(now, start)

    def _default_signal(self) -> SignalModel:
        # Custom axis sets keep the default peak on whichever default axes they still have.
        default = SignalModel()
        center = {a: c for a, c in default.center.items() if a in self._axes}
        return SignalModel(center=center, width=default.width)

    @staticmethod
    def _acceleration_for(axis: Axis, acceleration: float | Mapping[str, float] | None) -> float:
        if isinstance(acceleration, int | float):
            value = float(acceleration)
        else:
            value = (acceleration or {}).get(axis.id, DEFAULT_ACCELERATION.get(axis.unit, 0.0))
        if not value > 0:
            raise ValueError(f"axis {axis.id!r} needs a positive acceleration")
        return value

    def _check_known(self, axes: Iterable[str]) -> None:
        for axis in axes:
            if axis not in self._axes:
                raise UnknownAxisError(axis, list(self._axes))

    def _profile(self, axis: str) -> _Profile:
        """The axis' motion; the caller holds the lock."""
        self._check_link()
        self._check_known([axis])
        return self._motion[axis]

    def _check_link(self) -> None:
        if self._closed:
            raise HardwareError("controller is closed")
        if not self._connected:
            raise ControllerDisconnected(self.name, self._down_reason)

    # -------------------------------------------------------------- the simulated link

    @property
    def connected(self) -> bool:
        return self._connected and not self._closed

    @property
    def reconnect_attempts(self) -> int:
        """How many times the reconnector tried (for tests)."""
        return self._reconnector.attempts

    def break_link(self, reason: str = "simulated link loss") -> None:
        """Cut the link: calls raise :class:`ControllerDisconnected` until it is restored
        and the reconnector found it. Motion in progress goes on (the firmware runs it)."""
        with self._lock:
            if self._closed or not self._link_up:
                return
            now = self._clock()
            self._last_seen = {axis: p.sample(now)[0] for axis, p in self._motion.items()}
            self._link_up = self._connected = False
            self._down_reason = reason
        self._reconnector.trigger()

    def restore_link(self) -> None:
        """Mend the link; the controller reconnects at its next attempt (with backoff)."""
        with self._lock:
            self._link_up = True

    def _try_reconnect(self) -> bool:
        with self._lock:
            if self._link_up and not self._closed:
                self._connected = True
                self._down_reason = ""
            return self._link_up

    # ---------------------------------------------------------------------- the stage

    def axes(self) -> list[Axis]:
        return list(self._axes.values())

    def position(self, axis: str) -> float:
        with self._lock:
            return self._profile(axis).sample(self._clock())[0]

    def is_moving(self, axis: str) -> bool:
        with self._lock:
            return self._clock() < self._profile(axis).end

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        with self._lock:
            start = self._profile(axis).sample(self._clock())[0]
            self._start_move(axis, start + distance, speed)

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        with self._lock:
            self._start_move(axis, target, speed)

    def _start_move(self, axis: str, target: float, speed: float) -> None:
        current = self._profile(axis)
        if not (math.isfinite(target) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"need a finite target and a positive speed, got {target}, {speed}")
        info, now = self._axes[axis], self._clock()
        if not info.contains(target):
            raise SoftLimitError(axis, target, info.min, info.max)
        if now < current.end:
            raise AxisBusyError(axis)
        self._motion[axis] = _Profile.move(now, current.final, target, speed, self._acc[axis])

    def stop(self, axis: str) -> None:
        with self._lock:
            self._profile(axis)
            self._stop_locked(axis, self._clock())

    def _stop_locked(self, axis: str, now: float) -> None:
        self._check_link()
        if axis in self._fail_stop_on:
            raise HardwareError(f"axis {axis!r}: stop command not acknowledged (simulated fault)")
        self._motion[axis] = self._motion[axis].stopped(now, self._acc[axis])

    def stop_all(self) -> None:
        with self._lock:
            if self._closed:
                raise HardwareError("controller is closed")
            self._stop_every_axis()

    def _stop_every_axis(self) -> None:
        now = self._clock()
        stop_each(lambda axis: self._stop_locked(axis, now), self._axes)

    def status(self) -> dict[str, AxisStatus]:
        with self._lock:
            if self._closed:
                raise HardwareError("controller is closed")
            if not self._connected:
                fault = f"controller disconnected: {self._down_reason}"
                return {
                    axis: {"position": self._last_seen.get(axis), "moving": False, "fault": fault}
                    for axis in self._axes
                }
            now = self._clock()
            return {
                axis: {"position": p.sample(now)[0], "moving": now < p.end, "fault": None}
                for axis, p in self._motion.items()
            }

    def read_signal(self) -> float:
        with self._lock:
            now = self._clock()
            positions = {axis: self._profile(axis).sample(now)[0] for axis in self._motion}
            noise = self._rng.gauss(0.0, self._signal.noise) if self._signal.noise else 0.0
            return max(0.0, self._signal.ideal(positions) + noise)

    def close(self) -> None:
        try:
            with self._lock:
                if self._closed:
                    return
                try:
                    if self._connected:  # with the link down nothing can be stopped
                        self._stop_every_axis()
                finally:
                    self._closed = True
        finally:
            # Outside the lock: a reconnect attempt in progress takes it.
            self._reconnector.close()
