"""EPICS motor records over Channel Access, driven through ophyd (the ``interlock[epics]`` extra).

Each axis is one motor record: position from ``.RBV``, moving from ``.DMOV``/``.MOVN``, soft
limits from ``.HLM``/``.LLM``, speed through ``.VELO``, moves through ``.VAL`` and stops through
``.STOP``. ophyd's pyepics control layer (libca, the EPICS project's own client library)
speaks Channel Access; ophyd and pyepics are imported when a controller is made, so the options
model loads without the extra.

Every read is a fresh ``ca_get`` rather than a monitor's cached value: a read then comes after
every put this process made on the same circuit (the IOC answers in order), so ``is_moving``
right after a move sees the move, and nothing stale survives a reconnect.

Channel Access itself is configured the EPICS way, by ``EPICS_CA_*`` environment variables
(``EPICS_CA_ADDR_LIST``, ``EPICS_CA_AUTO_ADDR_LIST``, ``EPICS_CA_SERVER_PORT``...), read once
per process when the first channel is made.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from .controller import Axis, AxisStatus
from .errors import (
    AxisBusyError,
    ControllerDisconnected,
    HardwareError,
    MotionLimitError,
    SoftLimitError,
    UnknownAxisError,
    stop_each,
)
from .reconnect import Backoff, BackoffOptions, Reconnector

log = logging.getLogger("interlock.hardware")

R = TypeVar("R")


class EpicsAxisOptions(BaseModel):
    """One axis: the motor record that drives it."""

    model_config = ConfigDict(extra="allow")

    pv: str = Field(
        min_length=1, description="The motor record's PV name, without a field (e.g. IOC:m1)."
    )
    unit: str = Field(min_length=1, description="Unit of positions, e.g. um, mm or deg.")
    max_speed: PositiveFloat | None = Field(
        default=None, description="Fastest speed (unit/s) a move may ask for; none if unset."
    )
    name: str | None = Field(default=None, description="Human-readable name; the PV if unset.")


class EpicsOptions(BaseModel):
    """Options of the ``epics`` controller."""

    model_config = ConfigDict(extra="allow")

    axes: dict[str, EpicsAxisOptions] = Field(
        min_length=1, description="Axis id -> its motor record, e.g. {'x': {'pv': 'IOC:m1', ...}}."
    )
    signal: str | None = Field(
        default=None,
        description="PV of the detector read_signal() returns; reading it fails when unset.",
    )
    timeout: PositiveFloat = Field(
        default=2.0,
        description="Seconds to connect, and for each Channel Access read or write; a read "
        "that times out counts as link loss.",
    )
    reconnect: BackoffOptions = Field(default_factory=BackoffOptions)


@functools.cache
def _motor_record() -> Any:
    """The ophyd ``Device`` of a motor record's fields (ophyd imported on first use)."""
    import ophyd
    from ophyd import Component, Device, EpicsSignal, EpicsSignalRO

    if ophyd.cl.name != "pyepics":
        ophyd.set_cl("pyepics")

    class MotorRecord(Device):  # type: ignore[misc]
        setpoint = Component(EpicsSignal, ".VAL")
        readback = Component(EpicsSignalRO, ".RBV")
        done = Component(EpicsSignalRO, ".DMOV")
        moving = Component(EpicsSignalRO, ".MOVN")
        high_limit = Component(EpicsSignal, ".HLM")
        low_limit = Component(EpicsSignal, ".LLM")
        velocity = Component(EpicsSignal, ".VELO")
        halt = Component(EpicsSignal, ".STOP")
        egu = Component(EpicsSignalRO, ".EGU", string=True)

    return MotorRecord


class _Link:
    """One set of Channel Access channels to every record: made fresh on each reconnect, so
    a new channel searches at once instead of waiting out libca's own backoff."""

    def __init__(self, options: EpicsOptions, on_lost: Callable[[str], None]) -> None:
        from ophyd import EpicsSignalRO

        record = _motor_record()
        self.motors = {axis: record(o.pv, name=axis) for axis, o in options.axes.items()}
        self.signal = (
            EpicsSignalRO(options.signal, name="signal") if options.signal is not None else None
        )
        self._on_lost = on_lost
        self._watching = False

    def signals(self) -> Iterator[Any]:
        for motor in self.motors.values():
            yield from (getattr(motor, name) for name in motor.component_names)
        if self.signal is not None:
            yield self.signal

    def wait(self, timeout: float, abandon: Callable[[], bool]) -> None:
        """Wait until every channel is connected; ``TimeoutError`` naming the others if not.

        Gives up early, also with ``TimeoutError``, once ``abandon()`` is true (the controller
        is closing), so a close never waits out a reconnect attempt.
        """
        deadline = time.monotonic() + timeout
        while not self.connected and time.monotonic() < deadline:
            if abandon():
                raise TimeoutError("controller closed while connecting")
            time.sleep(0.01)
        for obj in [*self.motors.values(), *([self.signal] if self.signal else [])]:
            obj.wait_for_connection(timeout=max(0.01, deadline - time.monotonic()))
        # Watch for loss only once connected: a channel that never connected is not "lost".
        for signal in self.signals():
            signal.subscribe(self._meta, event_type="meta", run=False)
        self._watching = True

    def _meta(self, *, connected: bool | None = None, obj: Any = None, **_: Any) -> None:
        if self._watching and connected is False:
            self._on_lost(f"lost Channel Access connection to {getattr(obj, 'pvname', '?')}")

    @property
    def connected(self) -> bool:
        return all(signal.connected for signal in self.signals())

    def unreachable(self) -> list[str]:
        """``axis (PV)`` for each record (and the detector) with a channel not connected."""
        missing = [
            f"{axis} ({motor.prefix})"
            for axis, motor in self.motors.items()
            if not all(getattr(motor, name).connected for name in motor.component_names)
        ]
        if self.signal is not None and not self.signal.connected:
            missing.append(f"signal ({self.signal.pvname})")
        return missing

    def destroy(self) -> None:
        self._watching = False
        for motor in self.motors.values():
            motor.destroy()
        if self.signal is not None:
            self.signal.destroy()


class EpicsController:
    """A :class:`~interlock.hardware.controller.Controller` of EPICS motor records.

    Made by the registry as ``EpicsController(EpicsOptions(...))``: it connects to every
    record (within ``timeout``) and reads each axis' soft limits, or raises
    :class:`ControllerDisconnected` naming what it could not reach. A channel that
    disconnects later (the IOC died, the network went) marks the controller disconnected at
    once; a :class:`Reconnector` then makes fresh channels with backoff until they connect.
    """

    name = "epics"
    Options = EpicsOptions

    def __init__(self, options: EpicsOptions) -> None:
        self.options = options
        self._timeout = options.timeout
        self._lock = threading.Lock()  # guards the fields below, never held over CA I/O
        # Channel Access requests in flight: a link's channels are cleared only once none
        # is (libca crashes the process when a channel is cleared under a request on it).
        self._busy = 0
        self._idle = threading.Condition()
        self._closed = False
        self._connected = False
        self._down_reason = "not connected yet"
        self._link: _Link | None = None
        self._axes = {
            axis: Axis(axis, o.name or o.pv, o.unit, -math.inf, math.inf)
            for axis, o in options.axes.items()
        }
        self._last: dict[str, float | None] = dict.fromkeys(options.axes)
        self._moves = {axis: threading.Lock() for axis in options.axes}
        self._reconnector = Reconnector(self.name, self._try_connect, Backoff.of(options.reconnect))
        try:
            self._connect()
        except Exception as exc:
            self._reconnector.close()
            if isinstance(exc, HardwareError):
                raise
            raise ControllerDisconnected(self.name, str(exc)) from exc

    # ----------------------------------------------------------------- the link

    def _connect(self) -> None:
        """Make fresh channels, wait for them, read the limits, and go live (or raise)."""
        link = _Link(self.options, self._lost)
        try:
            link.wait(self._timeout, lambda: self._closed)
            axes = {axis: self._read_axis(link, axis) for axis in self._axes}
        except TimeoutError as exc:
            missing = link.unreachable()
            link.destroy()
            if not missing:
                raise ControllerDisconnected(self.name, _reason(exc)) from exc
            raise ControllerDisconnected(
                self.name,
                f"no Channel Access connection within {self._timeout:g} s to "
                f"{', '.join(missing)}; is the IOC running, and do EPICS_CA_ADDR_LIST / "
                "EPICS_CA_AUTO_ADDR_LIST reach it?",
            ) from exc
        except Exception as exc:
            link.destroy()
            if isinstance(exc, HardwareError):
                raise
            raise ControllerDisconnected(self.name, _reason(exc)) from exc
        with self._lock:
            if self._closed:
                link.destroy()
                return
            old, self._link, self._axes = self._link, link, axes
            self._connected = True
        if old is not None:
            self._retire(old)
        if not link.connected:  # lost again while the limits were read: no callback came
            self._lost("Channel Access connection lost while connecting")

    def _read_axis(self, link: _Link, axis: str) -> Axis:
        configured, motor = self._axes[axis], link.motors[axis]
        low, high = self._get(motor.low_limit, live=False), self._get(motor.high_limit, live=False)
        if not low < high:
            raise HardwareError(
                f"axis {axis!r} ({motor.prefix}): soft limits LLM={low:g}, HLM={high:g} "
                "are not set (LLM must be below HLM); Interlock moves only axes with limits"
            )
        egu = self._get(motor.egu, live=False)
        if egu and egu != configured.unit:
            log.warning(
                "axis %r (%s): EGU is %r, configured unit %r",
                axis,
                motor.prefix,
                egu,
                configured.unit,
            )
        self._last[axis] = self._get(motor.readback, live=False)
        return Axis(axis, configured.name, configured.unit, low, high)

    def _try_connect(self) -> bool:
        """One reconnect attempt, on the reconnector's thread."""
        with self._lock:
            if self._closed:
                return True
            old, self._link = self._link, None
        if old is not None:
            # Its channels must go first: pyepics would hand the new link the same (cached)
            # channel objects, still waiting out libca's search backoff.
            self._retire(old)
        self._connect()
        return True

    def _lost(self, reason: str) -> None:
        """A channel disconnected (libca's callback) or a call timed out."""
        with self._lock:
            if self._closed or not self._connected:
                return
            self._connected = False
            self._down_reason = reason
        log.warning("controller epics: %s", reason)
        self._reconnector.trigger()

    def _live(self) -> _Link:
        with self._lock:
            if self._closed:
                raise HardwareError("controller is closed")
            if not self._connected or self._link is None:
                raise ControllerDisconnected(self.name, self._down_reason)
            return self._link

    def _call(self, fn: Callable[[], R], *, live: bool = True) -> R:
        """Run one Channel Access request; a timeout or a lost channel is link loss.

        ``live``: on the current link, refused once it is being replaced or closed (its
        channels are about to be cleared); a link still connecting passes False."""
        with self._idle:
            if live and self._link is None:
                raise ControllerDisconnected(self.name, self._down_reason)
            self._busy += 1
        try:
            return fn()
        except (HardwareError, ValueError):
            raise
        except Exception as exc:
            reason = _reason(exc)
            self._lost(reason)
            raise ControllerDisconnected(self.name, reason) from exc
        finally:
            with self._idle:
                self._busy -= 1
                if not self._busy:
                    self._idle.notify_all()

    def _retire(self, link: _Link) -> None:
        """Clear a link's channels once no request is in flight (it is no longer current,
        so no new one starts on it); bounded by a request's own timeout."""
        with self._idle:
            self._idle.wait_for(lambda: self._busy == 0, timeout=2 * self._timeout + 1)
        link.destroy()

    def _get(self, signal: Any, *, live: bool = True) -> Any:
        return self._call(
            lambda: signal.get(
                use_monitor=False, timeout=self._timeout, connection_timeout=self._timeout
            ),
            live=live,
        )

    def _motor(self, axis: str) -> Any:
        if axis not in self._axes:
            raise UnknownAxisError(axis, list(self._axes))
        return self._live().motors[axis]

    @property
    def connected(self) -> bool:
        return self._connected and not self._closed

    # ----------------------------------------------------------------- the protocol

    def axes(self) -> list[Axis]:
        return list(self._axes.values())

    def position(self, axis: str) -> float:
        position = float(self._get(self._motor(axis).readback))
        self._last[axis] = position
        return position

    def is_moving(self, axis: str) -> bool:
        motor = self._motor(axis)
        return not self._get(motor.done) or bool(self._get(motor.moving))

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        self._move(axis, distance, speed, relative=True)

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        self._move(axis, target, speed, relative=False)

    def _move(self, axis: str, value: float, speed: float, *, relative: bool) -> None:
        if not (math.isfinite(value) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"need a finite target and a positive speed, got {value}, {speed}")
        motor = self._motor(axis)
        limit = self.options.axes[axis].max_speed
        if limit is not None and speed > limit:
            raise MotionLimitError(
                f"speed {speed:g} {self._axes[axis].unit}/s is above the max_speed "
                f"{limit:g} configured for axis {axis}"
            )
        with self._moves[axis]:  # one move command at a time per axis: VELO, then VAL
            if self.is_moving(axis):
                raise AxisBusyError(axis)
            low, high = self._get(motor.low_limit), self._get(motor.high_limit)
            start = self.position(axis) if relative else 0.0
            target = start + value
            if not low <= target <= high:
                raise SoftLimitError(axis, target, low, high)
            # VELO with put-completion, so VAL is never processed at the old speed.
            done = threading.Event()
            self._call(
                lambda: motor.velocity.put(
                    speed, use_complete=True, callback=lambda **_: done.set()
                )
            )
            if not done.wait(self._timeout):
                self._lost(f"no put completion for {motor.velocity.pvname}")
                raise ControllerDisconnected(self.name, self._down_reason)
            self._call(lambda: motor.setpoint.put(target, use_complete=False))

    def stop(self, axis: str) -> None:
        motor = self._motor(axis)
        self._call(lambda: motor.halt.put(1, use_complete=False))

    def stop_all(self) -> None:
        stop_each(self.stop, self._axes)

    def status(self) -> dict[str, AxisStatus]:
        result: dict[str, AxisStatus] = {}
        for axis in self._axes:
            try:
                position, moving = self.position(axis), self.is_moving(axis)
            except ControllerDisconnected as exc:
                fault = f"controller disconnected: {exc.reason}"
                result[axis] = {"position": self._last[axis], "moving": False, "fault": fault}
            else:
                result[axis] = {"position": position, "moving": moving, "fault": None}
        return result

    def read_signal(self) -> float:
        link = self._live()
        if link.signal is None:
            raise HardwareError("controller 'epics' has no detector: set the 'signal' option")
        return float(self._get(link.signal))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            link, connected = self._link, self._connected
        try:
            if connected:
                self.stop_all()
        except HardwareError as exc:
            log.warning("controller epics: closing: %s", exc)
        finally:
            with self._lock:
                self._closed, self._connected, self._link = True, False, None
            self._reconnector.close()
            if link is not None:
                self._retire(link)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
