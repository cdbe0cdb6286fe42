"""REST for task input files: ``POST /uploads`` (multipart, one part ``file``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.requests import ClientDisconnect
from starlette.types import Scope

from ..bodies import body_limit, body_types
from ..exceptions import UploadRejected
from ..settings import Settings
from ..uploads import UploadStore
from ..uploads.multipart import ENVELOPE_BYTES, receive_upload
from .deps import Operator
from .views import Detail

router = APIRouter(tags=["uploads"])


class UploadCreated(BaseModel):
    """A stored upload: send ``upload_id`` as the value of a task's file parameter."""

    upload_id: str = Field(description="32 hex digits; what a file parameter takes")
    filename: str = Field(description="The client's file name, for display only")
    size: int = Field(description="Bytes stored")
    sha256: str = Field(description="SHA-256 of the bytes stored, hex")


def _body_cap(scope: Scope) -> int:
    """The route's body cap: the upload cap (a setting) plus the multipart envelope."""
    settings: Settings = scope["app"].state.settings
    return settings.max_upload_bytes + ENVELOPE_BYTES


_MULTIPART_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            }
        },
    }
}


@router.post(
    "/uploads",
    status_code=201,
    response_model=UploadCreated,
    openapi_extra=_MULTIPART_BODY,
    responses={
        400: {"model": Detail, "description": "Malformed multipart body"},
        413: {"model": Detail, "description": "The file is over INTERLOCK_MAX_UPLOAD_MB"},
        415: {"model": Detail, "description": "Not multipart/form-data"},
        503: {"model": Detail, "description": "An I/O error: nothing was stored"},
        507: {"model": Detail, "description": "The disk is full: nothing was stored"},
    },
)
@body_limit(_body_cap)
@body_types("multipart/form-data")
async def upload(request: Request, caller: Operator) -> UploadCreated | JSONResponse:
    """Store one file for a task parameter. It streams to disk (never held in memory), is
    refused with 413 as soon as it passes the cap, and is kept while tasks use it."""
    uploads: UploadStore = request.app.state.uploads
    settings: Settings = request.app.state.settings
    try:
        stored = await receive_upload(
            request.headers,
            request.stream(),
            uploads,
            limit=settings.max_upload_bytes,
            uploaded_by=caller.user,
        )
    except ClientDisconnect:  # nothing was kept; the answer reaches nobody
        return JSONResponse(status_code=400, content={"detail": "the client went away"})
    except UploadRejected as exc:
        if exc.status == 422:
            loc = ["body", exc.field] if exc.field else ["body"]
            issue = {"loc": loc, "msg": exc.message, "type": "value_error"}
            return JSONResponse(status_code=422, content={"detail": [issue]})
        return JSONResponse(status_code=exc.status, content={"detail": exc.message})
    return UploadCreated(
        upload_id=stored.upload_id, filename=stored.filename, size=stored.size, sha256=stored.sha256
    )
