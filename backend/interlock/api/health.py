"""Health and the root: JSON for programs, the console for browsers."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, Response

from .. import __version__

router = APIRouter(tags=["health"])


def health_body() -> dict[str, Any]:
    return {"status": "ok", "service": "interlock", "version": __version__}


@router.get("/health")
async def health() -> dict[str, Any]:
    """Liveness: always ``{"status": "ok", ...}`` while the server serves."""
    return health_body()


@router.get("/api/health")
async def api_health() -> dict[str, Any]:
    """Same as ``/health`` (the pipeline backend's route)."""
    return health_body()


@router.get("/", response_model=None)
async def root(request: Request) -> Response:
    """Browsers get the operator console; every other client gets the health JSON."""
    index = request.app.state.static_dir / "index.html"
    if "text/html" in request.headers.get("accept", "") and index.is_file():
        return FileResponse(index)
    return JSONResponse(health_body())
