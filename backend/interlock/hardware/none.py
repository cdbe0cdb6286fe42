"""The ``none`` controller: no hardware at all (``--controller none``).

For a process that must not drive anything: a web node of a cluster (``interlock serve
--no-worker``) or a worker that runs only tasks that move nothing. It has no axes; moving
one raises :class:`UnknownAxisError`, stopping everything is a no-op.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from .controller import Axis, AxisStatus
from .errors import HardwareError, UnknownAxisError


class NoOptions(BaseModel):
    """It takes no options."""

    model_config = ConfigDict(extra="forbid")


class NoController:
    """A controller with no axes (see the module doc)."""

    Options = NoOptions

    def __init__(self, _options: NoOptions | None = None) -> None:
        self._closed = False

    @property
    def name(self) -> str:
        return "none"

    @property
    def connected(self) -> bool:
        return not self._closed

    def axes(self) -> list[Axis]:
        return []

    def _no_axis(self, axis: str) -> UnknownAxisError:
        return UnknownAxisError(axis, [])

    def position(self, axis: str) -> float:
        raise self._no_axis(axis)

    def is_moving(self, axis: str) -> bool:
        raise self._no_axis(axis)

    def move_relative(self, axis: str, distance: float, speed: float) -> None:
        raise self._no_axis(axis)

    def move_absolute(self, axis: str, target: float, speed: float) -> None:
        raise self._no_axis(axis)

    def stop(self, axis: str) -> None:
        raise self._no_axis(axis)

    def stop_all(self) -> None:
        return None

    def status(self) -> dict[str, AxisStatus]:
        return {}

    def read_signal(self) -> float:
        raise HardwareError("this process has no controller, hence no signal")

    def close(self) -> None:
        self._closed = True
