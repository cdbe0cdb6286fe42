"""Motion controllers: the ``Controller`` protocol, a simulator, a registry, async helpers,
per-unit motion limits and the stop executor."""

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
from .motion import move_and_wait, scan
from .registry import ENTRY_POINT_GROUP, available_controllers, load_controller
from .simulated import DEFAULT_AXES, SignalModel, SimulatedController
from .stopping import (
    STOPPER,
    Halted,
    StopExecutor,
    halt,
    halt_axes,
    run_stop,
    stop_axes,
    submit_stop,
)

__all__ = [
    "DEFAULT_AXES",
    "DEFAULT_TRAVEL_TIMEOUT",
    "ENTRY_POINT_GROUP",
    "STOPPER",
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
    "StopExecutor",
    "TravelTimeout",
    "UnitLimits",
    "UnknownAxisError",
    "UnknownControllerError",
    "available_controllers",
    "check_speed",
    "halt",
    "halt_axes",
    "load_controller",
    "move_and_wait",
    "run_stop",
    "scan",
    "stop_axes",
    "submit_stop",
    "unit_label",
]
