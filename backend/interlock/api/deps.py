"""How routers reach the session layer (set up by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.websockets import WebSocket

from ..manager import SessionManager
from ..settings import Settings


def get_manager(request: Request) -> SessionManager:
    manager: SessionManager = request.app.state.manager
    return manager


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def ws_manager(websocket: WebSocket) -> SessionManager:
    manager: SessionManager = websocket.app.state.manager
    return manager


Manager = Annotated[SessionManager, Depends(get_manager)]
