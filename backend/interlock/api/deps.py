"""How routers reach the session layer (set up by ``create_app``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..manager import SessionManager


def get_manager(request: Request) -> SessionManager:
    manager: SessionManager = request.app.state.manager
    return manager


Manager = Annotated[SessionManager, Depends(get_manager)]
