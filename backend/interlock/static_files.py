"""Serving the built operator console: assets, and index.html for client-side routes."""

from __future__ import annotations

import asyncio
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
        wants_html = "text/html" in request.headers.get("accept", "")
        found = await asyncio.to_thread(_console_file, root, path, wants_html)
        if found is None:
            raise HTTPException(404, "Not Found")
        return FileResponse(found)


def console_index(static_dir: Path) -> Path | None:
    """The console's index.html, if it is built. Touches the disk: call it in a thread."""
    index = static_dir / "index.html"
    return index if index.is_file() else None


def _console_file(root: Path, path: str, wants_html: bool) -> Path | None:
    # Resolving and stat-ing touch the disk (a slow or network mount would hold the event
    # loop): this runs in a worker thread.
    candidate = (root / path).resolve()
    if path and candidate.is_file() and candidate.is_relative_to(root):
        return candidate
    return console_index(root) if wants_html else None
