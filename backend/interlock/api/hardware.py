"""REST for the hardware: the axes' state, and the operator's software stop."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from ..auth import Role
from ..hardware import HardwareError
from ..supervisor import MotionSupervisor
from .deps import Viewer, require
from .views import Detail, HardwareView, StopFailed, StopReport

router = APIRouter(tags=["hardware"])


def get_supervisor(request: Request) -> MotionSupervisor:
    supervisor: MotionSupervisor = request.app.state.supervisor
    return supervisor


Supervisor = Annotated[MotionSupervisor, Depends(get_supervisor)]


@router.get(
    "/hardware", responses={502: {"model": Detail}}, dependencies=[Depends(require(Role.VIEWER))]
)
async def hardware(supervisor: Supervisor) -> HardwareView:
    """The controller and every axis: position, motion, unit and soft limits."""
    try:
        return HardwareView.model_validate(await supervisor.describe())
    except HardwareError as exc:
        raise HTTPException(502, f"controller error: {exc}") from None


@router.post(
    "/hardware/stop",
    response_model=StopReport,
    responses={502: {"model": StopFailed, "description": "Some axes did not accept the stop"}},
    # Anyone who can see may stop; only operators may move.
    dependencies=[Depends(require(Role.VIEWER))],
)
async def stop(supervisor: Supervisor, caller: Viewer) -> dict[str, Any] | JSONResponse:
    """Software stop: cancel every task holding axes, then stop every axis.

    A convenience, **not an emergency stop**: it depends on this server, the network and the
    controller link all working. 502 when an axis did not accept the stop (the others were
    still stopped).
    """
    report = await supervisor.stop_all(by=caller.user)
    if report["errors"]:
        failed = ", ".join(f"{e['axis']} ({e['error']})" for e in report["errors"])
        return JSONResponse(
            status_code=502, content={"detail": f"Could not stop axes: {failed}", **report}
        )
    return report
