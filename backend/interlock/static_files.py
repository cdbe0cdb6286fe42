"""Serving the built operator console: assets, and index.html for client-side routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, Response

from .api.deps import Public

STATIC_DIR = Path(__file__).parent / "static"


def mount_console(app: FastAPI, static_dir: Path) -> None:
    """Serve files under ``static_dir``; unknown paths asked for as HTML get index.html."""
    app.state.static_dir = static_dir
    root = static_dir.resolve()

    # Public: the console's files are the same for everyone; it signs in through /auth.
    @app.get("/{path:path}", include_in_schema=False, dependencies=[Public])
    async def console(path: str, request: Request) -> Response:
        candidate = (root / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(root):
            return FileResponse(candidate)
        index = root / "index.html"
        if "text/html" in request.headers.get("accept", "") and index.is_file():
            return FileResponse(index)
        raise HTTPException(404, "Not Found")
