"""``VisaController``: a :class:`~interlock.hardware.controller.Controller` for stages that
speak an ASCII command set over PyVISA (serial, USB, TCP), driven by a command table."""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ..controller import Axis, AxisStatus
from ..errors import (
    AxisBusyError,
    ControllerDisconnected,
    HardwareError,
    MotionLimitError,
    SoftLimitError,
    UnknownAxisError,
    stop_each,
)
from ..reconnect import Backoff, Reconnector
from .link import BadReply, LinkLost, VisaLink, reply_pattern
from .options import CommandTable, Query, VisaAxisOptions, VisaOptions
from .tables import command_table

log = logging.getLogger("interlock.hardware.visa")

T = TypeVar("T")


class VisaController:
    """Drives the axes of one VISA instrument with a command table (see ``docs/hardware.md``).

    Built by the registry as ``VisaController(VisaOptions(...))`` (a plain mapping is validated
    too). Connects at once and reads the soft limits the table can ask for; raises
    :class:`ControllerDisconnected` if the instrument cannot be reached. Later link failures
    (a reply timeout, a closed socket) drop the connection: calls raise
    :class:`ControllerDisconnected` and a background thread reconnects with backoff.

    A stop is written without waiting for a query in progress (see
    :mod:`interlock.hardware.visa.link`), and a move whose axis was stopped while the move was
    being commanded is abandoned before its motion command goes out.
    """

    name = "visa"
    Options = VisaOptions

    def __init__(self, options: VisaOptions | Mapping[str, Any]) -> None:
        if not isinstance(options, VisaOptions):
            options = VisaOptions.model_validate(options)
        self._options = options
        self._table: CommandTable = command_table(options.commands)
        self._axis_options = {axis.id: axis for axis in options.axes}
        self._link = VisaLink(options, self._table)
        self._state = threading.Lock()
        self._closed = False
        self._connected = False
        self._down_reason = ""
        self._last_seen: dict[str, float] = {}
        self._stops = dict.fromkeys(self._axis_options, 0)
        backoff = Backoff.of(options.reconnect)
        self._reconnector = Reconnector(self.name, self._try_reconnect, backoff)
        try:
            self._link.open()
            self._axes = {a.id: self._read_axis(a) for a in options.axes}
            for axis in self._axes:  # the last positions known, should the link go down
                with contextlib.suppress(BadReply):  # an axis' own fault, not the link's
                    self._position(axis)
        except (LinkLost, BadReply) as exc:
            self._link.close()
            reason = exc.reason if isinstance(exc, LinkLost) else str(exc)
            raise ControllerDisconnected(self.name, reason) from None
        self._connected = True

    # ------------------------------------------------------------------ encoding

    def _render(self, template: str, axis: VisaAxisOptions, value: float | None = None) -> str:
        text = template.replace("{axis}", axis.address)
        if value is not None:
            text = text.replace("{value}", self._encode(value, axis))
        return text

    def _counts_per_unit(self, axis: VisaAxisOptions) -> float:
        counts = axis.counts_per_unit or self._table.counts_per_unit
        assert counts is not None  # VisaOptions checks it for hex32 tables
        return counts

    def _encode(self, value: float, axis: VisaAxisOptions) -> str:
        if self._table.encoding == "decimal":
            return f"{value:.{self._table.decimals}f}"
        counts = round(value * self._counts_per_unit(axis))
        if not -(2**31) <= counts < 2**31:
            raise HardwareError(f"axis {axis.id!r}: {value:g} does not fit in 32-bit counts")
        return f"{counts & 0xFFFFFFFF:08X}"

    def _decode(self, text: str, axis: VisaAxisOptions) -> float:
        try:
            if self._table.encoding == "decimal":
                return float(text)
            counts = int(text, 16)
        except ValueError:
            raise BadReply(f"axis {axis.id!r}: {text!r} is not a number") from None
        if counts >= 2**31:
            counts -= 2**32
        return counts / self._counts_per_unit(axis)

    def _ask(self, query: Query, axis: VisaAxisOptions) -> str:
        return self._link.ask(
            self._render(query.command, axis), reply_pattern(query.pattern, axis.address)
        )

    def _ask_number(self, query: Query, axis: VisaAxisOptions) -> float:
        return self._decode(self._ask(query, axis), axis)

    def _read_axis(self, axis: VisaAxisOptions) -> Axis:
        low, high = axis.min, axis.max
        if low is None and self._table.min_limit is not None:
            low = self._ask_number(self._table.min_limit, axis)
        if high is None and self._table.max_limit is not None:
            high = self._ask_number(self._table.max_limit, axis)
        assert low is not None and high is not None  # VisaOptions checks it
        if not low < high:
            raise BadReply(f"axis {axis.id!r}: the limits read are not in order: [{low}, {high}]")
        return Axis(axis.id, axis.name or axis.id, axis.unit, low, high)

    # ------------------------------------------------------------------ the link

    @property
    def connected(self) -> bool:
        return self._connected and not self._closed

    @property
    def reconnect_attempts(self) -> int:
        """How many times the reconnector tried (for tests and logs)."""
        return self._reconnector.attempts

    def _io(self, axis: str | None, call: Callable[[], T]) -> T:
        """Run ``call`` on the link: closed, unknown axis, link down and bad replies become
        the protocol's errors; a lost link is noticed and handed to the reconnector."""
        if self._closed:
            raise HardwareError("controller is closed")
        if axis is not None and axis not in self._axis_options:
            raise UnknownAxisError(axis, list(self._axis_options))
        if not self._connected:
            raise ControllerDisconnected(self.name, self._down_reason)
        try:
            return call()
        except LinkLost as exc:
            self._lost(exc)
            raise ControllerDisconnected(self.name, exc.reason) from None
        except BadReply as exc:
            raise HardwareError(str(exc)) from None

    def _lost(self, exc: LinkLost) -> None:
        reason = exc.reason
        with self._state:
            if not self._connected or self._closed or exc.generation != self._link.generation:
                return  # already known, or an old connection failing after its replacement
            self._connected = False
            self._down_reason = reason
        log.warning("controller visa (%s): link lost: %s", self._options.resource, reason)
        self._link.drop()
        self._reconnector.trigger()

    def _try_reconnect(self) -> bool:
        if self._closed:
            return True
        try:
            self._link.open()
            with contextlib.suppress(BadReply):  # an answer at all proves the link
                self._ask_number(self._table.position, self._options.axes[0])
        except LinkLost as exc:
            self._link.drop()
            log.debug("controller visa: reconnect failed: %s", exc.reason)
            return False
        with self._state:
            self._connected = not self._closed
            self._down_reason = ""
        return True

    # ------------------------------------------------------------------ the stage

    def axes(self) -> list[Axis]:
        return list(self._axes.values())

    def _position(self, axis: str) -> float:
        value = self._ask_number(self._table.position, self._axis_options[axis])
        self._last_seen[axis] = value
        return value

    def _state_code(self, axis: str) -> str:
        return self._ask(self._table.state, self._axis_options[axis]).upper()

    def position(self, axis: str) -> float:
        return self._io(axis, lambda: self._position(axis))

    def is_moving(self, axis: str) -> bool:
        return self._io(axis, lambda: self._state_code(axis) in self._moving_codes)

    @property
    def _moving_codes(self) -> set[str]:
        return {code.upper() for code in self._table.state.moving}

    def _fault(self, code: str) -> str | None:
        faults = {k.upper(): v for k, v in self._table.state.faults.items()}
        return faults.get(code)

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        self._io(axis, lambda: self._move(axis, target, speed, relative=False))

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        self._io(axis, lambda: self._move(axis, distance, speed, relative=True))

    def _move(self, axis: str, value: float, speed: float, *, relative: bool) -> None:
        stops_before = self._stops[axis]
        if not (math.isfinite(value) and math.isfinite(speed) and speed > 0):
            raise ValueError(f"need a finite target and a positive speed, got {value}, {speed}")
        info, options, table = self._axes[axis], self._axis_options[axis], self._table
        if options.max_speed is not None and speed > options.max_speed:
            raise MotionLimitError(
                f"speed {speed:g}: at most {options.max_speed:g} {info.unit}/s for axis {axis}"
            )
        with self._link.exchange():
            code = self._state_code(axis)
            if code in self._moving_codes:
                raise AxisBusyError(axis)
            if (fault := self._fault(code)) is not None:
                raise HardwareError(f"axis {axis!r}: {fault} (state {code})")
            target = self._position(axis) + value if relative else value
            if not info.contains(target):
                raise SoftLimitError(axis, target, info.min, info.max)
            if table.velocity is not None:
                self._send_checked(axis, self._render(table.velocity, options, speed))
            if relative and table.move_relative is not None:
                command = self._render(table.move_relative, options, value)
            else:
                command = self._render(table.move_absolute, options, target)
            # Checked under the write lock: a stop counted before it is never overtaken.
            if not self._send_checked(
                axis, command, unless=lambda: self._stops[axis] != stops_before
            ):
                raise HardwareError(f"axis {axis!r} was stopped while its move was commanded")

    def _send_checked(
        self, axis: str, command: str, unless: Callable[[], bool] | None = None
    ) -> bool:
        """Send a command (False if ``unless`` said not to), then ask the error query (if the
        table has one) whether the instrument took it."""
        if not self._link.send(command, unless=unless):
            return False
        error = self._table.error
        if error is None:
            return True
        code = self._ask(error, self._axis_options[axis])
        if code != error.ok:
            meaning = error.errors.get(code, "unknown error")
            raise HardwareError(f"axis {axis!r}: {command!r} refused: {meaning} ({code})")
        return True

    def stop(self, axis: str) -> None:
        def send() -> None:
            self._stops[axis] += 1  # before the write lock: see _move
            self._link.send(self._render(self._table.stop, self._axis_options[axis]))

        self._io(axis, send)

    def stop_all(self) -> None:
        stop_each(self.stop, self._axes)

    def status(self) -> dict[str, AxisStatus]:
        def sample() -> dict[str, AxisStatus]:
            with self._link.exchange():
                result: dict[str, AxisStatus] = {}
                for axis in self._axes:
                    code = self._state_code(axis)
                    result[axis] = {
                        "position": self._position(axis),
                        "moving": code in self._moving_codes,
                        "fault": self._fault(code),
                    }
                return result

        try:
            return self._io(None, sample)
        except ControllerDisconnected as exc:
            fault = f"controller disconnected: {exc.reason}" if exc.reason else "disconnected"
            return {
                axis: {"position": self._last_seen.get(axis), "moving": False, "fault": fault}
                for axis in self._axes
            }

    def read_signal(self) -> float:
        signal = self._options.signal or self._table.signal
        if signal is None:
            raise HardwareError("controller visa: no signal query configured (option 'signal')")
        first = self._options.axes[0]
        return self._io(None, lambda: self._ask_number(signal, first))

    def close(self) -> None:
        with self._state:
            if self._closed:
                return
        try:
            if self._connected:
                self.stop_all()
        except HardwareError as exc:
            log.error("controller visa: stop at close failed: %s", exc)
        finally:
            with self._state:
                self._closed = True
            self._reconnector.close()
            self._link.close()
