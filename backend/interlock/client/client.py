"""``AsyncClient``: Interlock's REST API as coroutines, sessions as ``Session`` objects."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from websockets.asyncio.client import connect

from .. import protocol as p
from ..api.views import CancelledTask, TaskTypeView, TaskView
from ..states import TaskStatus
from .errors import ConnectionLost
from .events import is_terminal, parse_event
from .rest import Rest, auth_headers
from .session import Session

#: Messages asked for per page of the full session log.
LOG_PAGE = 1000


class AsyncClient:
    """A client of one Interlock server at ``url`` (``http://host:port``), with an API
    ``token`` when the server has authentication on (sent as ``Authorization: Bearer`` on
    every request and WebSocket handshake).

    ``timeout`` bounds each request (a cancel waits for the task to stop, up to the
    server's cancel timeout); ``reconnect_timeout`` is how long an event stream keeps
    trying to reconnect before ``ConnectionLost``. Use it as ``async with`` or ``aclose()``.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        reconnect_timeout: float = 30.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.reconnect_timeout = reconnect_timeout
        self.ws_url = "ws" + self.url.removeprefix("http")
        self._rest = Rest(self.url, token, timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._rest.aclose()

    async def task_types(self) -> list[TaskTypeView]:
        """The task types the server runs, with each one's parameter schema."""
        return [TaskTypeView.model_validate(t) for t in await self._rest.call("GET", "/task-types")]

    async def start(self, task_type: str, /, **params: Any) -> Session:
        """Start a task of ``task_type`` with ``params``; ``ValidationFailed`` lists the
        parameters the server rejected (``RequestRefused`` 409 when no slot is free)."""
        return await self.create(task_type, params)

    async def create(
        self,
        task_type: str,
        parameters: dict[str, Any] | None = None,
        *,
        queue: bool = False,
        respondents: list[str] | None = None,
    ) -> Session:
        """``start`` with everything ``POST /tasks`` takes: ``queue`` waits for a slot
        instead of a 409; ``respondents`` names who may answer (authentication on)."""
        body: dict[str, Any] = {"task_type": task_type, "parameters": parameters or {}}
        if queue:
            body["queue"] = True
        if respondents is not None:
            body["respondents"] = respondents
        created = await self._rest.call("POST", "/tasks", json=body)
        return Session(self, created["task_id"])

    def session(self, task_id: str) -> Session:
        """The session of a task started elsewhere (nothing is asked of the server yet)."""
        return Session(self, task_id)

    async def tasks(
        self, status: TaskStatus | str | None = None, limit: int = 100
    ) -> list[TaskView]:
        """Tasks, newest first; only those in ``status`` when given."""
        query: dict[str, Any] = {"limit": limit}
        if status is not None:
            query["status"] = TaskStatus(status).value
        return [
            TaskView.model_validate(t) for t in await self._rest.call("GET", "/tasks", params=query)
        ]

    async def get(self, task_id: str) -> TaskView:
        """One task (``NotFound`` when there is none)."""
        return TaskView.model_validate(await self._rest.call("GET", f"/tasks/{task_id}"))

    async def cancel(self, task_id: str) -> CancelledTask:
        """Cancel a task; returns once it has ended (``RequestRefused`` 400 when it is not
        active, 504 when it did not stop within the server's cancel timeout)."""
        return CancelledTask.model_validate(await self._rest.call("DELETE", f"/tasks/{task_id}"))

    async def answer(
        self,
        task_id: str,
        request_id: str,
        *,
        value: bool | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        """Answer a task's open request: ``value`` for a confirmation, ``values`` for a form."""
        body: dict[str, Any] = {"request_id": request_id}
        if value is not None:
            body["value"] = value
        else:
            body["values"] = values if values is not None else {}
        await self._rest.call("POST", f"/tasks/{task_id}/answer", json=body)

    async def log(
        self, task_id: str, after_seq: int = 0, *, follow: bool = False
    ) -> AsyncGenerator[p.SessionMessage]:
        """The whole session log after ``after_seq``, in order: pages of
        ``GET /tasks/{id}/messages``; with ``follow``, then the live messages until the
        task ends. A server without that route gives what its replay window still holds."""
        last, ended = after_seq, False
        pages = self._pages(task_id, after_seq)
        first = await anext(pages, None)
        if first is None:  # no log route: the WebSocket replay, as far back as it goes
            async for event in self._replay(task_id, after_seq):
                last, ended = event.seq, is_terminal(event)
                yield event
        else:
            for event in first:
                last, ended = event.seq, is_terminal(event)
                yield event
            async for page in pages:
                for event in page:
                    last, ended = event.seq, is_terminal(event)
                    yield event
        if follow and not ended:
            async with aclosing(Session(self, task_id).events(since=last)) as live:
                async for event in live:
                    yield event

    async def log_between(
        self, task_id: str, after_seq: int, before_seq: int
    ) -> AsyncGenerator[p.SessionMessage]:
        """The log's messages with ``after_seq < seq < before_seq`` (none when the server
        has no log route)."""
        async with aclosing(self._pages(task_id, after_seq)) as pages:
            async for page in pages:
                for event in page:
                    if event.seq >= before_seq:
                        return
                    yield event

    async def _pages(self, task_id: str, after_seq: int) -> AsyncGenerator[list[p.SessionMessage]]:
        """Pages of ``GET /tasks/{id}/messages`` (at least one, maybe empty); nothing at all
        when the server has no such route."""
        after = after_seq
        while True:
            body = await self._rest.maybe(
                "GET", f"/tasks/{task_id}/messages", params={"after_seq": after, "limit": LOG_PAGE}
            )
            if body is None:
                return
            page = [parse_event(m, self._responder(task_id)) for m in body["messages"]]
            yield page
            if not page or page[-1].seq >= body["last_seq"]:
                return
            after = page[-1].seq

    async def _replay(self, task_id: str, since: int) -> AsyncIterator[p.SessionMessage]:
        """One WebSocket's replay (``since``), up to ``state_replay_complete``."""
        await self.get(task_id)  # NotFound / AuthenticationFailed as REST says them
        url = f"{self.ws_url}/ws/{task_id}?since={since}"
        try:
            ws = await connect(url, additional_headers=auth_headers(self.token), max_size=None)
        except OSError as exc:
            raise ConnectionLost(f"cannot reach {self.ws_url}: {exc!r}") from exc
        async with ws:
            async for raw in ws:
                data = json.loads(raw)
                if data.get("type") == "state_replay_complete":
                    return
                if "seq" in data and "ts" in data:
                    yield parse_event(data, self._responder(task_id))
        raise ConnectionLost(f"the connection to task {task_id} closed during its replay")

    def _responder(self, task_id: str) -> Any:
        return Session(self, task_id)._respond
