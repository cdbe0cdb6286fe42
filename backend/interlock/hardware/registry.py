"""Find a controller implementation by name.

``simulated`` is built in. Any other controller is a factory published by an installed
distribution under the entry point group ``interlock.controllers``; the factory (usually the
class itself) is called with the options and must return a :class:`Controller`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .controller import Controller
from .errors import HardwareError, UnknownControllerError
from .simulated import SimulatedController

ENTRY_POINT_GROUP = "interlock.controllers"

# Built-ins win over entry points of the same name, so a stray plugin cannot replace the
# simulator that tests and demos rely on.
_BUILTIN: dict[str, Callable[..., Controller]] = {"simulated": SimulatedController}


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_controllers() -> list[str]:
    """Names :func:`load_controller` accepts, sorted."""
    return sorted({*_BUILTIN, *_entry_points()})


def load_controller(name: str, **options: Any) -> Controller:
    """Create the controller registered as ``name``, passing ``options`` to its factory.

    Raises :class:`UnknownControllerError` (listing the available names) when nothing is
    registered under ``name``, and :class:`HardwareError` when the entry point cannot be
    loaded or its factory returns something that is not a :class:`Controller`. Errors the
    factory raises itself (e.g. a failed connection) propagate unchanged.
    """
    factory = _BUILTIN.get(name)
    if factory is None:
        entry_point = _entry_points().get(name)
        if entry_point is None:
            raise UnknownControllerError(name, available_controllers())
        try:
            factory = entry_point.load()
        except Exception as exc:
            raise HardwareError(
                f"controller {name!r}: cannot load entry point {entry_point.value!r}: {exc}"
            ) from exc
    controller = factory(**options)
    if not isinstance(controller, Controller):
        raise HardwareError(
            f"controller {name!r}: factory returned {type(controller).__name__}, "
            "which does not implement the Controller protocol"
        )
    return controller
