"""Errors raised by controllers and the motion helpers.

Every class derives from :class:`HardwareError`, so the whole family can be re-parented
under the project's exception tree by changing one base class.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


class HardwareError(Exception):
    """Raised when a controller cannot do what it was asked (communication, drive fault, …)."""


class ControllerDisconnected(HardwareError):
    """Raised by every controller call that needs the link while the link is down.

    The controller reconnects by itself (with backoff); calls succeed again once
    :attr:`Controller.connected` is true. A stop that raises this was **not** delivered: the
    axis may still be moving under the controller's own firmware.
    """

    def __init__(self, controller: str, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(f"controller {controller!r} is disconnected{detail}")
        self.controller = controller
        self.reason = reason


class InvalidControllerOptions(HardwareError):
    """Raised by the registry when a controller's options fail its ``Options`` model.

    ``errors`` is pydantic's list of field errors (``loc``, ``msg``, ``type``, ...); the
    message names every field, one per line, so start-up can print it as it is.
    """

    def __init__(self, name: str, errors: list[dict[str, Any]]) -> None:
        lines = [
            f"  {'.'.join(str(part) for part in error.get('loc', ())) or '(options)'}: "
            f"{error.get('msg', 'invalid')}"
            for error in errors
        ]
        super().__init__(f"invalid options for controller {name!r}:\n" + "\n".join(lines))
        self.name = name
        self.errors = errors


class UnknownAxisError(HardwareError):
    """Raised when an axis id is not one of the controller's ``axes()``."""

    def __init__(self, axis: str, known: list[str]) -> None:
        super().__init__(f"unknown axis {axis!r}; known axes: {', '.join(known)}")
        self.axis = axis
        self.known = known


class SoftLimitError(HardwareError):
    """Raised before any motion when a move's target lies outside the axis' soft limits."""

    def __init__(self, axis: str, target: float, min: float, max: float) -> None:
        super().__init__(f"axis {axis!r}: target {target:g} is outside [{min:g}, {max:g}]")
        self.axis = axis
        self.target = target
        self.min = min
        self.max = max


class AxisBusyError(HardwareError):
    """Raised when a move is commanded on an axis that is still moving.

    Stop the axis and wait until ``is_moving`` is false before commanding a new move.
    """

    def __init__(self, axis: str) -> None:
        super().__init__(f"axis {axis!r} is moving; stop it and wait for standstill first")
        self.axis = axis


class UnknownControllerError(HardwareError):
    """Raised when no built-in or entry-point controller has the requested name."""

    def __init__(self, name: str, available: list[str]) -> None:
        super().__init__(
            f"unknown controller {name!r}; available controllers: {', '.join(available)}"
        )
        self.name = name
        self.available = available


class MotionLimitError(HardwareError):
    """Raised before any motion when a speed, span or step is not sane for the axis' unit.

    The message names the axis and the unit; see :mod:`interlock.hardware.limits`.
    """


class MotionCancelled(HardwareError):
    """Raised by the motion helpers after a cancel request stopped the axis.

    ``position`` is where the axis came to rest. The axis is standing still when this is
    raised: a stop that fails or never reaches standstill raises :class:`HardwareError`
    instead, because that is a fault, not a cancellation.
    """

    def __init__(self, axis: str, position: float) -> None:
        super().__init__(f"motion of axis {axis!r} cancelled at {position:g}")
        self.axis = axis
        self.position = position


class MotionTimeout(HardwareError):
    """Raised by the motion helpers when a move did not finish in time; the axis was stopped.

    ``position`` is where the axis came to rest after the stop.
    """

    def __init__(self, axis: str, position: float, timeout: float) -> None:
        super().__init__(
            f"axis {axis!r} did not reach its target within {timeout:g} s; stopped at {position:g}"
        )
        self.axis = axis
        self.position = position
        self.timeout = timeout


def stop_each(stop: Callable[[str], None], axes: Iterable[str]) -> None:
    """``stop`` every axis, each whatever the others did; then one :class:`HardwareError`
    naming every axis that could not be stopped (and why), if any. ``stop_all`` of the
    shipped controllers."""
    failed = []
    for axis in axes:
        try:
            stop(axis)
        except HardwareError as exc:
            failed.append(f"{axis} ({exc})")
    if failed:
        raise HardwareError(f"could not stop axes: {', '.join(failed)}")
