"""Interlock from Python: ``AsyncClient`` / ``Client``, sessions and their events.

```python
async with AsyncClient("http://127.0.0.1:8000", token=None) as client:
    session = await client.start("dummy_short", duration=1)
    async for event in session.events():
        ...
    result = await session.wait()
```

Events are ``interlock.protocol``'s models (requests with ``respond()``); see
``docs/client.md``.
"""

from .client import AsyncClient
from .errors import (
    AnswerRefused,
    AuthenticationFailed,
    ClientError,
    ConnectionLost,
    Forbidden,
    NotFound,
    RequestRefused,
    TaskCancelled,
    TaskEnded,
    TaskFailed,
    TaskInterrupted,
    ValidationFailed,
)
from .events import Event, RequestConfirmation, RequestUserInput
from .session import Session
from .sync import Client, SyncSession

#: ``ValidationFailed`` under the name pydantic users reach for first.
ValidationError = ValidationFailed

__all__ = [
    "AnswerRefused",
    "AsyncClient",
    "AuthenticationFailed",
    "Client",
    "ClientError",
    "ConnectionLost",
    "Event",
    "Forbidden",
    "NotFound",
    "RequestConfirmation",
    "RequestRefused",
    "RequestUserInput",
    "Session",
    "SyncSession",
    "TaskCancelled",
    "TaskEnded",
    "TaskFailed",
    "TaskInterrupted",
    "ValidationError",
    "ValidationFailed",
]
