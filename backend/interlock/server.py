"""Running the app under uvicorn: ``interlock serve`` and the test servers share this."""

from __future__ import annotations

import logging

import uvicorn

from .settings import Settings
from .wire import CoalescingWebSocketProtocol


def serve(settings: Settings) -> None:
    """Build the app from ``settings`` and serve it until a signal stops it."""
    from .app import create_app

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws_max_size=settings.ws_max_message_bytes,
        ws=CoalescingWebSocketProtocol,
        timeout_graceful_shutdown=10,
    )
