"""``Client``: the same methods as ``AsyncClient``, blocking.

It runs an ``AsyncClient`` on an event loop in a thread of its own (anyio's blocking
portal), so it works where a loop already runs (a notebook) and shares every line of the
async code: the same reconnects, the same errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

from anyio.from_thread import BlockingPortal, start_blocking_portal

from .. import protocol as p
from ..api.views import CancelledTask, TaskTypeView, TaskView
from ..states import TaskStatus
from .client import AsyncClient
from .events import RequestConfirmation, RequestUserInput
from .session import Session


class _End:
    """The end of an async iterator, as a value (StopAsyncIteration does not cross threads
    cleanly)."""


_END = _End()


async def _next(iterator: Any) -> Any:
    try:
        return await anext(iterator)
    except StopAsyncIteration:
        return _END


class SyncSession:
    """``Session``, blocking: ``for event in session.events()``, ``session.wait()``."""

    def __init__(self, portal: BlockingPortal, session: Session) -> None:
        self._portal = portal
        self._session = session
        self.task_id = session.task_id

    @property
    def id(self) -> str:
        return self.task_id

    def __repr__(self) -> str:
        return f"<SyncSession {self.task_id}>"

    def events(self, since: int = 0) -> Iterator[p.SessionMessage]:
        """As ``Session.events``; ``event.respond(...)`` blocks until the answer is taken."""
        events = self._session.events(since)
        try:
            while not isinstance(event := self._portal.call(_next, events), _End):
                if isinstance(event, RequestConfirmation | RequestUserInput):
                    event._responder = self._respond
                yield event
        finally:
            self._portal.call(events.aclose)

    def _respond(self, request_id: str, answer: Any) -> None:
        self._portal.call(self._session._respond, request_id, answer)

    def confirm(self, request_id: str, value: bool) -> None:
        self._portal.call(self._session.confirm, request_id, value)

    def submit(self, request_id: str, values: dict[str, Any]) -> None:
        self._portal.call(self._session.submit, request_id, values)

    def cancel(self) -> None:
        self._portal.call(self._session.cancel)

    def wait(self) -> Any:
        return self._portal.call(self._session.wait)


class Client:
    """``AsyncClient``'s methods, blocking. Use it as ``with Client(url) as client`` or
    call ``close()``: it owns a thread."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 30.0,
        reconnect_timeout: float = 30.0,
    ) -> None:
        self._stack = ExitStack()
        self._portal = self._stack.enter_context(start_blocking_portal())
        self._async = AsyncClient(url, token, timeout=timeout, reconnect_timeout=reconnect_timeout)
        self.url = self._async.url
        self.token = token

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._portal.call(self._async.aclose)
        finally:
            self._stack.close()

    def task_types(self) -> list[TaskTypeView]:
        return self._portal.call(self._async.task_types)

    def start(self, task_type: str, /, **params: Any) -> SyncSession:
        return self.create(task_type, params)

    def create(
        self,
        task_type: str,
        parameters: dict[str, Any] | None = None,
        *,
        queue: bool = False,
        respondents: list[str] | None = None,
    ) -> SyncSession:
        session = self._portal.call(
            lambda: self._async.create(task_type, parameters, queue=queue, respondents=respondents)
        )
        return SyncSession(self._portal, session)

    def session(self, task_id: str) -> SyncSession:
        return SyncSession(self._portal, self._async.session(task_id))

    def tasks(self, status: TaskStatus | str | None = None, limit: int = 100) -> list[TaskView]:
        return self._portal.call(self._async.tasks, status, limit)

    def get(self, task_id: str) -> TaskView:
        return self._portal.call(self._async.get, task_id)

    def cancel(self, task_id: str) -> CancelledTask:
        return self._portal.call(self._async.cancel, task_id)

    def answer(
        self,
        task_id: str,
        request_id: str,
        *,
        value: bool | None = None,
        values: dict[str, Any] | None = None,
    ) -> None:
        self._portal.call(
            lambda: self._async.answer(task_id, request_id, value=value, values=values)
        )

    def log(self, task_id: str, after_seq: int = 0, *, follow: bool = False) -> Iterator[Any]:
        events = self._async.log(task_id, after_seq, follow=follow)
        respond = self.session(task_id)._respond
        try:
            while not isinstance(event := self._portal.call(_next, events), _End):
                if isinstance(event, RequestConfirmation | RequestUserInput):
                    event._responder = respond
                yield event
        finally:
            self._portal.call(events.aclose)
