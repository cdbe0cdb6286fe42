"""Which controller the server drives, and with what options.

``INTERLOCK_CONTROLLER`` names the plug-in. Its options come from
``INTERLOCK_CONTROLLER_OPTIONS`` (a JSON object) or from the ``[controller]`` table of the
TOML file ``INTERLOCK_CONFIG`` — one or the other, never both. The plug-in's ``Options``
model checks them (:func:`interlock.hardware.registry.load_controller`); bad options stop
start-up with the field errors.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from .hardware import Controller, load_controller
from .settings import Settings

TABLE = "controller"


class ControllerConfigError(ValueError):
    """The controller's options cannot be read (bad file, bad TOML, given twice)."""


def controller_options(settings: Settings) -> dict[str, Any]:
    """The raw options of the configured controller (``{}`` when none are given)."""
    from_json = settings.controller_options
    from_file = _from_config_file(settings) if settings.config is not None else None
    if from_json is not None and from_file is not None:
        raise ControllerConfigError(
            f"controller options given twice: INTERLOCK_CONTROLLER_OPTIONS and the "
            f"[{TABLE}] table of {settings.config}; keep one"
        )
    if from_json is not None:
        options: dict[str, Any] = json.loads(from_json)  # an object: Settings checked it
        return options
    return from_file or {}


def _from_config_file(settings: Settings) -> dict[str, Any] | None:
    path = settings.config
    assert path is not None
    try:
        with path.open("rb") as file:
            document = tomllib.load(file)
    except OSError as exc:
        raise ControllerConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ControllerConfigError(f"config file {path} is not valid TOML: {exc}") from None
    table = document.get(TABLE)
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ControllerConfigError(f"config file {path}: [{TABLE}] must be a table")
    return table


def build_controller(settings: Settings) -> Controller:
    """The configured controller, connected.

    Raises :class:`ControllerConfigError`, or the registry's errors:
    :class:`~interlock.hardware.UnknownControllerError`,
    :class:`~interlock.hardware.InvalidControllerOptions` (the field errors), or whatever
    :class:`~interlock.hardware.HardwareError` the plug-in raises when it cannot connect.
    """
    return load_controller(settings.controller, controller_options(settings))
