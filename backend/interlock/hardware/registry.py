"""Find a controller plug-in by name, validate its options, and build it.

``simulated`` is built in. Any other controller is a factory published by an installed
distribution under the entry point group ``interlock.controllers``. A factory (usually the
controller class itself) has an ``Options`` attribute, a pydantic model of its options; the
registry validates the raw options (a mapping from JSON or TOML) with it and calls
``factory(options)`` with the model instance. See ``docs/hardware.md``.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, cast, runtime_checkable

from pydantic import BaseModel, ValidationError

from .controller import Controller
from .errors import HardwareError, InvalidControllerOptions, UnknownControllerError
from .none import NoController
from .simulated import SimulatedController

ENTRY_POINT_GROUP = "interlock.controllers"


@runtime_checkable
class ControllerFactory(Protocol):
    """What an entry point of ``interlock.controllers`` points at."""

    Options: type[BaseModel]

    def __call__(self, options: Any, /) -> Controller: ...


# Built-ins win over entry points of the same name, so a stray plugin cannot replace the
# simulator that tests and demos rely on.
_BUILTIN: dict[str, ControllerFactory] = {
    "simulated": cast(ControllerFactory, SimulatedController),
    "none": cast(ControllerFactory, NoController),
}


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def available_controllers() -> list[str]:
    """Names :func:`load_controller` accepts, sorted."""
    return sorted({*_BUILTIN, *_entry_points()})


def controller_factory(name: str) -> ControllerFactory:
    """The factory registered as ``name``.

    Raises :class:`UnknownControllerError` (listing the available names) when nothing is
    registered under ``name``, and :class:`HardwareError` when the entry point cannot be
    loaded (e.g. its extra is not installed) or has no pydantic ``Options`` model.
    """
    factory = _BUILTIN.get(name)
    if factory is not None:
        return factory
    entry_point = _entry_points().get(name)
    if entry_point is None:
        raise UnknownControllerError(name, available_controllers())
    try:
        loaded = entry_point.load()
    except Exception as exc:
        raise HardwareError(
            f"controller {name!r}: cannot load entry point {entry_point.value!r}: {exc}"
        ) from exc
    options = getattr(loaded, "Options", None)
    if not (isinstance(options, type) and issubclass(options, BaseModel)) or not callable(loaded):
        raise HardwareError(
            f"controller {name!r}: entry point {entry_point.value!r} is not a controller "
            "factory (a callable with an `Options` pydantic model)"
        )
    factory_: ControllerFactory = loaded
    return factory_


def parse_options(name: str, options: Mapping[str, Any] | None = None) -> BaseModel:
    """``options`` validated by the ``Options`` model of controller ``name``.

    Raises :class:`InvalidControllerOptions` with pydantic's field errors when they fail.
    """
    model = controller_factory(name).Options
    try:
        return model.model_validate(dict(options or {}))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_context=False, include_input=False)
        raise InvalidControllerOptions(name, [dict(error) for error in errors]) from None


def load_controller(name: str, options: Mapping[str, Any] | None = None) -> Controller:
    """Create the controller registered as ``name`` with ``options`` (raw, validated here).

    Raises :class:`UnknownControllerError`, :class:`InvalidControllerOptions` (the field
    errors), or :class:`HardwareError` when the factory returns something that is not a
    :class:`Controller`. Errors the factory raises itself (e.g. a failed connection,
    :class:`~interlock.hardware.errors.ControllerDisconnected`) propagate unchanged.
    """
    parsed = parse_options(name, options)
    controller = controller_factory(name)(parsed)
    if not isinstance(controller, Controller):
        raise HardwareError(
            f"controller {name!r}: factory returned {type(controller).__name__}, "
            "which does not implement the Controller protocol"
        )
    return controller


def options_schema(name: str) -> dict[str, Any]:
    """The JSON Schema of controller ``name``'s options."""
    return controller_factory(name).Options.model_json_schema()
