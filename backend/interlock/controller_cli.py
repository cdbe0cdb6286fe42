"""``interlock controllers``: the installed controller plug-ins, and a check of the configured one.

* ``interlock controllers [--json]`` lists every plug-in of the entry point group
  ``interlock.controllers`` with the JSON Schema of its options (or why it cannot be loaded).
* ``interlock controllers check [--json] [settings flags]`` connects with the configured
  controller and options (``INTERLOCK_CONTROLLER``, ``INTERLOCK_CONTROLLER_OPTIONS``,
  ``INTERLOCK_CONFIG``, or their flags) and lists the axes with position and soft limits. It
  commands nothing, not even a stop, and does not close the controller (closing stops every
  axis): the link goes when the process exits.

Exit status: 0 when connected and no axis reports a fault; 1 when it cannot connect, the
link is down or an axis reports a fault; 2 for a usage error (bad flag, unknown
controller, bad options: the field errors are printed).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .controller_config import ControllerConfigError, build_controller
from .flags import add_settings_flags, settings_from
from .hardware import (
    Controller,
    HardwareError,
    InvalidControllerOptions,
    UnknownControllerError,
    available_controllers,
    options_schema,
)

OK, FAILED, USAGE = 0, 1, 2


def add_controller_commands(sub: Any) -> None:
    """Add ``controllers`` (and ``controllers check``) to the ``interlock`` subparsers."""
    listing = sub.add_parser(
        "controllers",
        help="list the controller plug-ins and their options, or check the configured one",
        description="List the installed controller plug-ins with the JSON Schema of their "
        "options. `controllers check` connects to the configured controller instead.",
    )
    listing.add_argument("--json", action="store_true", help="print one JSON document")
    listing.set_defaults(handler=run, parser=listing)
    commands = listing.add_subparsers(dest="controllers_command")
    check = commands.add_parser(
        "check",
        help="connect to the configured controller and list its axes; moves nothing",
        description="Connect with the configured controller and options, list the axes with "
        "position and soft limits, command nothing. Exit 1 when it cannot connect.",
    )
    check.add_argument("--json", action="store_true", help="print one JSON document")
    add_settings_flags(check)
    check.set_defaults(parser=check)


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``controllers`` command; returns the exit status."""
    if args.controllers_command == "check":
        return check(args)
    return list_controllers(json_output=args.json)


def list_controllers(*, json_output: bool) -> int:
    entries: list[dict[str, Any]] = []
    for name in available_controllers():
        try:
            entries.append({"name": name, "options_schema": options_schema(name), "error": None})
        except HardwareError as exc:
            entries.append({"name": name, "options_schema": None, "error": str(exc)})
    if json_output:
        _print(json.dumps({"controllers": entries}, indent=2))
        return OK
    for entry in entries:
        if entry["error"] is not None:
            _print(f"{entry['name']}: cannot be loaded: {entry['error']}\n")
            continue
        schema = json.dumps(entry["options_schema"], indent=2).replace("\n", "\n  ")
        _print(f"{entry['name']}\n  options (JSON Schema):\n  {schema}\n")
    return OK


def check(args: argparse.Namespace) -> int:
    settings = settings_from(args, args.parser)
    name = settings.controller
    try:
        controller = build_controller(settings)
    except (ControllerConfigError, UnknownControllerError, InvalidControllerOptions) as exc:
        _fail(f"controller {name!r}: {exc}")
        return USAGE
    except HardwareError as exc:
        _fail(f"cannot connect to controller {name!r}: {exc}")
        return FAILED
    except Exception as exc:  # a plug-in's own error type: still a failure to connect
        _fail(f"cannot connect to controller {name!r}: {type(exc).__name__}: {exc}")
        return FAILED
    try:
        report = _describe(controller)
    except HardwareError as exc:
        _fail(f"controller {name!r} connected, then failed: {exc}")
        return FAILED
    problems = _problems(report)
    if args.json:
        _print(json.dumps({**report, "problems": problems}, indent=2))
    else:
        _print(_table(report))
    for problem in problems:
        _fail(f"controller {name!r}: {problem}")
    return FAILED if problems else OK


def _describe(controller: Controller) -> dict[str, Any]:
    axes, status = controller.axes(), controller.status()
    return {
        "controller": controller.name,
        "connected": controller.connected,
        "axes": [
            {
                "id": axis.id,
                "name": axis.name,
                "unit": axis.unit,
                "position": status[axis.id]["position"],
                "moving": status[axis.id]["moving"],
                "min": axis.min,
                "max": axis.max,
                "fault": status[axis.id]["fault"],
            }
            for axis in axes
        ],
    }


def _problems(report: dict[str, Any]) -> list[str]:
    problems = [] if report["connected"] else ["not connected"]
    problems += [f"axis {a['id']}: {a['fault']}" for a in report["axes"] if a["fault"]]
    return problems


def _table(report: dict[str, Any]) -> str:
    state = "connected" if report["connected"] else "DISCONNECTED"
    header = ("axis", "name", "unit", "position", "min", "max", "state")
    rows = [header]
    for a in report["axes"]:
        position = "?" if a["position"] is None else f"{a['position']:g}"
        status = "fault: " + a["fault"] if a["fault"] else ("moving" if a["moving"] else "idle")
        rows.append(
            (a["id"], a["name"], a["unit"], position, f"{a['min']:g}", f"{a['max']:g}", status)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return f"controller {report['controller']}: {state}\n" + "\n".join(
        line.rstrip() for line in lines
    )


def _print(text: str) -> None:
    sys.stdout.write(text + "\n")


def _fail(text: str) -> None:
    sys.stderr.write(f"interlock controllers check: {text}\n")
