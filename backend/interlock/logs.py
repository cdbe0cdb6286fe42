"""How ``interlock serve`` logs: lines for people, or one JSON object per line.

With ``INTERLOCK_LOG_FORMAT=json`` every line, uvicorn's included, is an object with
``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message`` (and ``exc_info`` with a
traceback), plus ``session_id``, ``request_id`` and ``user`` where they apply. Those come
from the record (``log.info(..., extra={"session_id": ...})``) or else from the context the
line is logged in: a task's run carries its session (``runtime.execute``), a WebSocket or
an HTTP request on a session's path carries that session and, once its caller is known, the
user (``api.deps.identify``), an answer carries its request.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .settings import Settings

if TYPE_CHECKING:  # types only: the session layer imports this module, never a server
    from starlette.types import ASGIApp, Receive, Scope, Send

SESSION_ID: ContextVar[str | None] = ContextVar("interlock_session_id", default=None)
REQUEST_ID: ContextVar[str | None] = ContextVar("interlock_request_id", default=None)
USER: ContextVar[str | None] = ContextVar("interlock_user", default=None)
#: The context fields, in the order they are written.
CONTEXT = (("session_id", SESSION_ID), ("request_id", REQUEST_ID), ("user", USER))
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

#: Paths that name a session: ``/tasks/{id}...``, ``/ws/{id}``, the POC's routes.
_SESSION_PATH = re.compile(r"^/(?:tasks|ws|session-info|cancel-task)/([^/]+)")
_NOT_SESSIONS = frozenset({"current"})


class JsonFormatter(logging.Formatter):
    """One JSON object per record; see the module docstring."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, var in CONTEXT:
            value = getattr(record, key, None)
            if value is None:
                value = var.get()
            if value is not None:
                line[key] = value
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(settings: Settings) -> None:
    """Set up the root logger for ``interlock serve``. In JSON mode uvicorn is given no
    logging config of its own (``uvicorn_options``): its loggers hand their lines to it."""
    level = settings.log_level.upper()
    if settings.log_format == "json":
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=level, format=TEXT_FORMAT)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What uvicorn's ``Config`` needs for the log format (nothing for text: its own)."""
    return {"log_config": None} if settings.log_format == "json" else {}


class LogContext:
    """ASGI middleware: a request on a session's path logs with its ``session_id``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            found = _SESSION_PATH.match(scope["path"])
            if found is not None and found[1] not in _NOT_SESSIONS:
                SESSION_ID.set(found[1])
        await self.app(scope, receive, send)
