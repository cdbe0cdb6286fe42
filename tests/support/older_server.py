"""A running server made to look like one from before ``GET /tasks/{id}/messages``."""

from __future__ import annotations

from tests.support.server import LiveServer


def drop_log_route(server: LiveServer) -> None:
    """Remove the full-log route (whatever its parameter is called), if the app has it:
    the client's fallback to the WebSocket replay is what is left to test."""
    server.app.router.routes[:] = [
        r for r in server.app.router.routes if not _is_log_route(getattr(r, "path", ""))
    ]


def _is_log_route(path: str) -> bool:
    return path.startswith("/tasks/{") and path.endswith("}/messages")
