"""Motion controllers: the ``Controller`` protocol, a simulator, a registry, async helpers."""

from .controller import Axis, AxisStatus, Controller
from .errors import (
    AxisBusyError,
    HardwareError,
    MotionCancelled,
    MotionLimitError,
    MotionTimeout,
    SoftLimitError,
    UnknownAxisError,
    UnknownControllerError,
)
from .limits import (
    DEFAULT_TRAVEL_TIMEOUT,
    UNIT_LIMITS,
    TravelTimeout,
    UnitLimits,
    check_speed,
    unit_label,
)
from .motion import Halted, halt_axes, move_and_wait, scan, stop_axes
from .registry import ENTRY_POINT_GROUP, available_controllers, load_controller
from .simulated import DEFAULT_AXES, SignalModel, SimulatedController

__all__ = [
    "DEFAULT_AXES",
    "DEFAULT_TRAVEL_TIMEOUT",
    "ENTRY_POINT_GROUP",
    "UNIT_LIMITS",
    "Axis",
    "AxisBusyError",
    "AxisStatus",
    "Controller",
    "Halted",
    "HardwareError",
    "MotionCancelled",
    "MotionLimitError",
    "MotionTimeout",
    "SignalModel",
    "SimulatedController",
    "SoftLimitError",
    "TravelTimeout",
    "UnitLimits",
    "UnknownAxisError",
    "UnknownControllerError",
    "available_controllers",
    "check_speed",
    "halt_axes",
    "load_controller",
    "move_and_wait",
    "scan",
    "stop_axes",
    "unit_label",
]
