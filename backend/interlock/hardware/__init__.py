"""Motion controllers: the ``Controller`` protocol, a simulator, a registry, async helpers."""

from .controller import Axis, AxisStatus, Controller
from .errors import (
    AxisBusyError,
    HardwareError,
    MotionCancelled,
    MotionTimeout,
    SoftLimitError,
    UnknownAxisError,
    UnknownControllerError,
)
from .motion import Halted, halt_axes, move_and_wait, scan, stop_axes
from .registry import ENTRY_POINT_GROUP, available_controllers, load_controller
from .simulated import DEFAULT_AXES, SignalModel, SimulatedController

__all__ = [
    "DEFAULT_AXES",
    "ENTRY_POINT_GROUP",
    "Axis",
    "AxisBusyError",
    "AxisStatus",
    "Controller",
    "Halted",
    "HardwareError",
    "MotionCancelled",
    "MotionTimeout",
    "SignalModel",
    "SimulatedController",
    "SoftLimitError",
    "UnknownAxisError",
    "UnknownControllerError",
    "available_controllers",
    "halt_axes",
    "load_controller",
    "move_and_wait",
    "scan",
    "stop_axes",
]
