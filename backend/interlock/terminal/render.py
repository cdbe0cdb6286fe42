"""Session messages as terminal text, shared by ``watch``, ``logs`` and ``attach``; the
exit status each ending means; how ``k=v`` arguments become values."""

from __future__ import annotations

import json
from typing import Any

from .. import protocol as p

#: Exit statuses of the client commands (``interlock watch`` and the like).
COMPLETED, FAILED, USAGE, CANCELLED, INTERRUPTED = 0, 1, 2, 3, 4
EXIT_CODES: dict[type[p.SessionMessage], int] = {
    p.TaskCompleted: COMPLETED,
    p.TaskFailed: FAILED,
    p.TaskCancelled: CANCELLED,
    p.TaskInterrupted: INTERRUPTED,
}

#: The console's words for a hazard (frontend ConfirmationDialog): motion needs a
#: deliberate Yes, so the default answer is No.
HAZARD_BANNER = "⚠ Hazard: hardware will move"
KIND_TITLE = {"confirm": "Confirmation needed", "retry": "Retry?", "hazard": HAZARD_BANNER}


def exit_code(event: p.SessionMessage) -> int:
    """The exit status a terminal message means."""
    for model, code in EXIT_CODES.items():
        if isinstance(event, model):
            return code
    raise ValueError(f"not a terminal message: {event!r}")


def yes_no(value: bool | None) -> str:
    return "Yes" if value else "No"


def details_lines(details: dict[str, Any] | None) -> list[str]:
    return [f"  {key}: {_short(value)}" for key, value in (details or {}).items()]


def _short(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def progress_text(event: p.Progress) -> str:
    parts = [f"{event.progress:.0f}%"]
    if event.stage:
        parts.append(f"[{event.stage}]")
    if event.message:
        parts.append(event.message)
    return " ".join(parts)


def describe(event: p.SessionMessage) -> str:
    """One message as a line (a request as a few lines)."""
    if isinstance(event, p.Stream):
        return event.content
    if isinstance(event, p.Progress):
        return f"progress {progress_text(event)}"
    if isinstance(event, p.Status):
        return f"status: {event.status.value}"
    if isinstance(event, p.RequestConfirmation):
        head = KIND_TITLE.get(event.kind.value, "Confirmation needed")
        return "\n".join([f"? {head}: {event.prompt}", *details_lines(event.details)])
    if isinstance(event, p.RequestUserInput):
        names = ", ".join(f.name for f in event.fields)
        return f"? {event.prompt} (form: {names})"
    if isinstance(event, p.RequestResolved):
        return f"request {event.request_id[:8]} {_resolution(event)}"
    if isinstance(event, p.AttemptFailed):
        return f"attempt {event.attempt}/{event.max_attempts} failed: {event.error}"
    if isinstance(event, p.TaskCompleted):
        return f"completed: {json.dumps(event.result)}"
    if isinstance(event, p.TaskFailed):
        return f"failed: {event.error}"
    if isinstance(event, p.TaskCancelled):
        return f"cancelled: {event.reason}"
    if isinstance(event, p.TaskInterrupted):
        return f"interrupted: {event.reason}"
    return event.model_dump_json()


def _resolution(event: p.RequestResolved) -> str:
    if event.reason.value == "answered":
        who = event.answered_by.user if event.answered_by and event.answered_by.user else None
        what = yes_no(event.value) if event.value is not None else json.dumps(event.values)
        return f"answered {what}" + (f" by {who}" if who else "")
    if event.reason.value == "timeout":
        return "timed out (the default answer was used)"
    return "cancelled"


def parse_value(raw: str, schema: dict[str, Any] | None = None) -> Any:
    """``k=v``'s value: text for a string field, else JSON when it parses (``3``,
    ``true``, ``[1, 2]``), else the text itself."""
    if schema is not None and schema.get("type") == "string":
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_pairs(pairs: list[str], properties: dict[str, Any] | None = None) -> dict[str, Any] | str:
    """``["k=v", …]`` as a dict, or the message saying which one is malformed."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            return f"expected NAME=VALUE, got {pair!r}"
        out[key] = parse_value(raw, (properties or {}).get(key))
    return out
