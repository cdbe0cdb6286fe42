"""The ``Controller`` protocol: what Interlock needs from a motion controller.

The protocol is shaped like a typical blocking vendor SDK on purpose, so that wrapping a
real one is a thin adapter. Calls may block (serial/USB/.NET round trips), so async code
must run them in a worker thread: ``asyncio.to_thread``, or for stops the executor of
:mod:`interlock.hardware.stopping`. :mod:`interlock.hardware.motion` does that for moves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TypedDict, runtime_checkable


@dataclass(frozen=True, slots=True)
class Axis:
    """Static description of one axis.

    ``min`` and ``max`` are the soft limits in ``unit``: a move whose target lies outside
    them is refused before anything moves.
    """

    id: str
    """Short identifier used in every call, e.g. ``"x"`` or ``"tx"``."""
    name: str
    """Human-readable name, e.g. ``"X (lateral)"``."""
    unit: str
    """Unit of positions and distances, e.g. ``"um"`` or ``"deg"``; speeds are unit/s."""
    min: float
    max: float

    def __post_init__(self) -> None:
        if not self.min < self.max:
            raise ValueError(f"axis {self.id!r}: min ({self.min}) must be below max ({self.max})")

    def contains(self, position: float) -> bool:
        """Whether ``position`` lies within the soft limits (inclusive)."""
        return self.min <= position <= self.max


class AxisStatus(TypedDict):
    """One axis in :meth:`Controller.status`; plain data so it serialises as JSON.

    ``fault`` is None while the axis works, else a short human reason (``"controller
    disconnected"``, a drive alarm). While the link is down ``position`` is the last position
    read (None if none ever was) and ``moving`` is False: not known, so not claimed.
    """

    position: float | None
    moving: bool
    fault: str | None


@runtime_checkable
class Controller(Protocol):
    """A multi-axis motion controller with one optical power (signal) input.

    Guarantees every implementation gives:

    * **Thread-safety.** Every method may be called from any thread, concurrently. In
      particular :meth:`stop` and :meth:`stop_all` may be called while another thread is
      polling :meth:`position` or :meth:`is_moving`.
    * **Non-blocking moves.** :meth:`move_relative` and :meth:`move_absolute` return as soon
      as the controller accepted the command; the motion goes on in the background. Watch it
      with :meth:`is_moving` / :meth:`position`.
    * **Checked before motion.** An unknown axis raises :class:`UnknownAxisError`, a target
      outside the soft limits raises :class:`SoftLimitError`, and a move on an axis that is
      still moving may raise :class:`AxisBusyError` — in every case before anything moves.
    * **Stops decelerate and return at once.** :meth:`stop` commands a controlled
      (decelerating) stop and returns without waiting; the axis is at rest shortly after,
      short of the old target. Stopping an axis at rest is a no-op.
    * **Connection state.** :attr:`connected` says whether the link is up; it never blocks
      and never raises. While the link is down every call that needs it (:meth:`position`,
      :meth:`is_moving`, moves, :meth:`stop`, :meth:`read_signal`) raises
      :class:`ControllerDisconnected`; :meth:`axes` still answers (the configured axes) and
      :meth:`status` reports every axis with a ``fault`` instead of raising. The controller
      notices a lost link by itself (a failed call, a monitor callback) and reconnects in
      the background with backoff (:class:`~interlock.hardware.reconnect.Reconnector`).
    * Other failures raise :class:`HardwareError`.

    A software stop is not an emergency stop: it relies on this process, the controller
    link and the controller firmware all working. See ``docs/hardware.md``.
    """

    @property
    def name(self) -> str:
        """Name the controller is registered under, e.g. ``"simulated"``."""
        ...

    @property
    def connected(self) -> bool:
        """Whether the link to the controller is up. Never blocks, never raises; False after
        :meth:`close`."""
        ...

    def axes(self) -> list[Axis]:
        """Every axis, in a stable order. Does not block on motion; answers while
        disconnected (the configured axes)."""
        ...

    def position(self, axis: str) -> float:
        """Current position of ``axis`` in its unit, also while it moves."""
        ...

    def is_moving(self, axis: str) -> bool:
        """Whether ``axis`` is in motion (including a decelerating stop)."""
        ...

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        """Start moving ``axis`` by ``distance`` at up to ``speed`` (unit/s); returns at once.

        The target is the current position plus ``distance``; it is checked against the
        soft limits before anything moves. ``speed`` must be positive.
        """
        ...

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        """Start moving ``axis`` to ``target`` at up to ``speed`` (unit/s); returns at once.

        ``target`` is checked against the soft limits before anything moves. ``speed`` must
        be positive.
        """
        ...

    def stop(self, axis: str) -> None:
        """Command a decelerating stop of ``axis`` and return without waiting for rest.

        Raises :class:`HardwareError` when the controller did not accept the stop, in which
        case the axis may still be moving.
        """
        ...

    def stop_all(self) -> None:
        """Command a decelerating stop of every axis and return without waiting.

        Tries every axis even when one fails, then raises :class:`HardwareError` naming the
        axes that could not be stopped.
        """
        ...

    def status(self) -> dict[str, AxisStatus]:
        """Position, motion state and fault of every axis, keyed by axis id, sampled together.

        Does not raise :class:`ControllerDisconnected`: while the link is down every axis is
        reported with ``fault`` set (see :class:`AxisStatus`).
        """
        ...

    def read_signal(self) -> float:
        """The detector reading (optical power) at the current positions."""
        ...

    def close(self) -> None:
        """Stop every axis and release the connection. Idempotent.

        With the link down it only releases (and stops reconnecting): it does not raise
        :class:`ControllerDisconnected`, since the stops before it already reported that.

        Any other call after ``close`` raises :class:`HardwareError`.
        """
        ...
