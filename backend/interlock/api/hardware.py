"""REST for the hardware: the axes' state, and the operator's software stop."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError

from ..auth import Role
from ..cluster.node import ClusterNode
from ..hardware import HardwareError
from ..supervisor import MotionSupervisor
from .deps import Viewer, require
from .views import Detail, HardwareView, StopFailed, StopReport, WorkerHardwareView

router = APIRouter(tags=["hardware"])


def get_supervisor(request: Request) -> MotionSupervisor:
    supervisor: MotionSupervisor = request.app.state.supervisor
    return supervisor


Supervisor = Annotated[MotionSupervisor, Depends(get_supervisor)]


@router.get(
    "/hardware", responses={502: {"model": Detail}}, dependencies=[Depends(require(Role.VIEWER))]
)
async def hardware(supervisor: Supervisor, request: Request) -> HardwareView:
    """The controller and every axis: position, motion, unit and soft limits. With Redis,
    also every worker's controller and axes (``workers``)."""
    node: ClusterNode | None = request.app.state.manager.cluster
    try:
        view = HardwareView.model_validate(await supervisor.describe())
    except HardwareError as exc:
        raise HTTPException(502, f"controller error: {exc}") from None
    if node is None:
        return view
    try:
        workers = [WorkerHardwareView.model_validate(w) for w in await node.workers_hardware()]
    except RedisError as exc:
        raise HTTPException(503, f"the cluster state in Redis is unreachable: {exc}") from None
    if view.controller == "none" and workers and not workers[0].error:
        first = workers[0]
        view = HardwareView(
            controller=first.controller or "none", connected=first.connected, axes=first.axes
        )
    view.workers = workers
    return view


@router.post(
    "/hardware/stop",
    response_model=StopReport,
    responses={502: {"model": StopFailed, "description": "Some axes did not accept the stop"}},
    # Anyone who can see may stop; only operators may move.
    dependencies=[Depends(require(Role.VIEWER))],
)
async def stop(
    supervisor: Supervisor, caller: Viewer, request: Request
) -> dict[str, Any] | JSONResponse:
    """Software stop: cancel every task holding axes, then stop every axis.

    A convenience, **not an emergency stop**: it depends on this server, the network and the
    controller link all working. 502 when an axis did not accept the stop (the others were
    still stopped).
    """
    report = await supervisor.stop_all(by=caller.user)
    node: ClusterNode | None = request.app.state.manager.cluster
    if node is not None:
        # Every worker that owns a controller stops its axes too, at once.
        try:
            reports = await node.stop_everywhere(caller.user)
        except RedisError as exc:
            reports = [_unreached(f"the workers could not be reached through Redis: {exc}")]
        for other in reports:
            for key in ("stopped", "cancelled", "errors"):
                report[key] = [*report[key], *other.get(key, [])]
    if report["errors"]:
        failed = ", ".join(f"{e['axis']} ({e['error']})" for e in report["errors"])
        return JSONResponse(
            status_code=502, content={"detail": f"Could not stop axes: {failed}", **report}
        )
    return report


def _unreached(why: str) -> dict[str, Any]:
    return {"stopped": [], "cancelled": [], "errors": [{"axis": "workers", "error": why}]}
