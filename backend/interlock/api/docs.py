"""The API docs, offline: Swagger UI at ``/docs``, ReDoc at ``/redoc``, and the favicon.

FastAPI's own pages load their scripts, styles and fonts from CDNs, which a lab network
often cannot reach. These pages load everything from this server: the swagger-ui and redoc
builds shipped by the ``fastapi-offline`` package (a dependency, so every install has them)
under ``/docs/assets/``, and Interlock's icon at ``/favicon.ico``. No page refers to another
host; ``tests/api/test_docs.py`` and a browser test with every other host blocked hold that.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse, Response

from .deps import Public

#: Where fastapi-offline keeps the dist files it ships.
VENDOR_DIR = Path(str(files(fastapi_offline) / "static"))
FAVICON = Path(__file__).resolve().parents[1] / "assets" / "favicon.ico"
ASSETS_PATH = "/docs/assets"
OPENAPI_URL = "/openapi.json"

#: The vendor files the pages use, and the only ones served (no directory listing, no
#: stray files). Media types are fixed here rather than guessed from the platform.
ASSETS: dict[str, str] = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
}
# The files change only when the package is upgraded, which restarts the server.
CACHE = {"Cache-Control": "public, max-age=86400"}
# Swagger UI's default validator badge would call an external validator service.
SWAGGER_PARAMETERS = {"validatorUrl": None}
#: The pages may load from this server only. The vendor bundles still name a few outside
#: URLs (ReDoc's footer logo); the browser refuses them without a request, and ReDoc hides
#: the image when it fails to load. Inline scripts and styles are what both bundles use.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "frame-ancestors 'none'",  # no framing: Swagger UI's Execute must not be clickjacked
    )
)

# Public: the pages and their scripts are the same on every install (and /openapi.json,
# which they load, is public too: it describes the API, not this server's data).
router = APIRouter(include_in_schema=False, dependencies=[Public])


@router.get(OPENAPI_URL)
async def openapi(request: Request) -> Response:
    """The OpenAPI document, serialized once when the app was built (``app.state``)."""
    return Response(request.app.state.openapi_json, media_type="application/json")


@router.get("/docs")
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI for ``/openapi.json``, with local assets only."""
    app = request.app
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_URL,
        title=f"{app.title} - Swagger UI",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url="/favicon.ico",
        swagger_ui_parameters=SWAGGER_PARAMETERS,
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """ReDoc for ``/openapi.json``, with local assets only (and system fonts)."""
    app = request.app
    page = get_redoc_html(
        openapi_url=OPENAPI_URL,
        title=f"{app.title} - ReDoc",
        redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url="/favicon.ico",
        with_google_fonts=False,
    )
    page.headers["Content-Security-Policy"] = CSP
    return page


@router.get(ASSETS_PATH + "/{name}")
async def asset(name: str) -> FileResponse:
    """One of the vendor files in ``ASSETS``; anything else is 404."""
    if name not in ASSETS:
        raise HTTPException(404, "Not Found")
    return FileResponse(VENDOR_DIR / name, media_type=ASSETS[name], headers=CACHE)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    """Interlock's icon (drawn by scripts/favicon.py), for the console and the docs."""
    return FileResponse(FAVICON, media_type="image/x-icon", headers=CACHE)
