"""Health and the root: JSON for programs, the console for browsers."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from .. import __version__
from ..manager import SessionManager
from ..static_files import console_index
from .deps import Public
from .views import Health

router = APIRouter(tags=["health"])


def health_body(request: Request) -> tuple[int, Health]:
    """``ok`` (200), or ``degraded`` (503) with the reason while the store refuses writes."""
    manager: SessionManager = request.app.state.manager
    # ws_fast_path: set by interlock.server when uvicorn runs interlock.wire's protocol.
    fast = bool(getattr(request.app.state, "ws_fast_path", False))
    reason = manager.health()
    if reason is None:
        return 200, Health(version=__version__, ws_fast_path=fast)
    return 503, Health(
        status="degraded",
        version=__version__,
        ws_fast_path=fast,
        reason=f"store unavailable: {reason}",
    )


def _health(request: Request) -> JSONResponse:
    status, body = health_body(request)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status)


DEGRADED: dict[int | str, dict[str, Any]] = {
    503: {"model": Health, "description": "Degraded: the store refuses writes"},
}


@router.get(
    "/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses=DEGRADED,
    dependencies=[Public],  # for probes: says nothing private
)
async def health(request: Request, response: Response) -> Health:
    """Readiness: 200 ``{"status": "ok"}``, or 503 ``{"status": "degraded", "reason"}``
    while the store fails (tasks cannot start and answers are refused meanwhile)."""
    response.status_code, body = health_body(request)
    return body


@router.get(
    "/api/health",
    response_model=Health,
    response_model_exclude_none=True,
    responses=DEGRADED,
    dependencies=[Public],
)
async def api_health(request: Request, response: Response) -> Health:
    """Same as ``/health`` (the pipeline backend's route)."""
    response.status_code, body = health_body(request)
    return body


@router.get(
    "/",
    response_class=Response,
    responses={200: {"model": Health, "content": {"text/html": {}}}},
    dependencies=[Public],  # the console's page (it signs in itself) or the health JSON
)
async def root(request: Request) -> Response:
    """Browsers get the operator console; every other client gets the health JSON."""
    if "text/html" in request.headers.get("accept", ""):
        index = await asyncio.to_thread(console_index, request.app.state.static_dir)
        if index is not None:
            return FileResponse(index)
    return _health(request)
