"""Health and the root: JSON for programs, the console for browsers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from .. import __version__
from ..manager import SessionManager

router = APIRouter(tags=["health"])


def health_body(request: Request) -> tuple[int, dict[str, Any]]:
    """``ok`` (200), or ``degraded`` (503) with the reason while the store refuses writes.

    ``ws_fast_path`` says whether WebSockets use the fast path (``interlock.wire``)."""
    manager: SessionManager = request.app.state.manager
    # ws_fast_path: set by interlock.server when uvicorn runs interlock.wire's protocol.
    fast = bool(getattr(request.app.state, "ws_fast_path", False))
    body: dict[str, Any] = {
        "status": "ok",
        "service": "interlock",
        "version": __version__,
        "ws_fast_path": fast,
    }
    reason = manager.health()
    if reason is None:
        return 200, body
    return 503, {**body, "status": "degraded", "reason": f"store unavailable: {reason}"}


def _health(request: Request) -> JSONResponse:
    status, body = health_body(request)
    return JSONResponse(body, status_code=status)


@router.get("/health", response_model=None)
async def health(request: Request) -> JSONResponse:
    """Readiness: 200 ``{"status": "ok"}``, or 503 ``{"status": "degraded", "reason"}``
    while the store fails (tasks cannot start and answers are refused meanwhile)."""
    return _health(request)


@router.get("/api/health", response_model=None)
async def api_health(request: Request) -> JSONResponse:
    """Same as ``/health`` (the pipeline backend's route)."""
    return _health(request)


@router.get("/", response_model=None)
async def root(request: Request) -> Response:
    """Browsers get the operator console; every other client gets the health JSON."""
    index = request.app.state.static_dir / "index.html"
    if "text/html" in request.headers.get("accept", "") and index.is_file():
        return FileResponse(index)
    return _health(request)
