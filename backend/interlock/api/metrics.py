"""GET /metrics: Prometheus text format (``interlock.metrics``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..auth import Role
from ..metrics import CONTENT_TYPE, Metrics
from .deps import require

router = APIRouter(tags=["metrics"])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
    # With INTERLOCK_AUTH on a token (any role) is needed; off, it is open like the rest.
    dependencies=[Depends(require(Role.VIEWER))],
    include_in_schema=False,  # for Prometheus, not for the REST clients generated from it
)
async def metrics(request: Request) -> Response:
    """The server's figures in Prometheus text format (see docs/operations.md)."""
    collected: Metrics = request.app.state.metrics
    return Response(collected.render(), media_type=CONTENT_TYPE)
