"""GET /tasks/{id}/messages: page through a session's whole stored log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from ..auth import Role
from ..exceptions import TaskNotFound
from .deps import Manager, require
from .views import Detail, MessagePageView

router = APIRouter(tags=["tasks"])

#: The most messages one page may hold.
MAX_PAGE = 1000


@router.get(
    "/tasks/{task_id}/messages",
    response_model=MessagePageView,
    responses={404: {"model": Detail}},
    dependencies=[Depends(require(Role.VIEWER))],
)
async def messages(
    task_id: str,
    manager: Manager,
    after_seq: Annotated[
        int, Query(ge=0, description="Only messages with a higher seq (0: from the start)")
    ] = 0,
    before_seq: Annotated[
        int | None,
        Query(
            ge=1,
            description="Only messages with a lower seq; the page is then the newest "
            "``limit`` of them (paging backwards from the live tail)",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="The most messages")] = 100,
) -> Response:
    """The session's messages in seq order, each as it was sent on the WebSocket, from the
    whole log the store keeps (up to ``INTERLOCK_LOG_MAX_MESSAGES``, for the retention
    period), not only the replay window. ``last_seq`` is the newest stored seq and
    ``first_seq`` the oldest (above 1: older ones were dropped, beyond the log's limit)."""
    try:
        page = await manager.log_page(
            task_id, after_seq=after_seq, before_seq=before_seq, limit=limit
        )
    except TaskNotFound:
        raise HTTPException(404, f"Task not found: {task_id}") from None
    # The messages are stored as their wire JSON: spliced in, not parsed and re-serialized.
    body = (
        f'{{"messages":[{",".join(m.data for m in page.messages)}],'
        f'"last_seq":{page.last_seq},"first_seq":{page.first_seq}}}'
    )
    return Response(body, media_type="application/json")
