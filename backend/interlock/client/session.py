"""``Session``: one task seen from a client. Its event stream resumes by itself.

``events()`` reads ``WS /ws/{id}?since=N``: the replay, then live messages. When the
connection drops it reconnects with ``since`` = the last ``seq`` it yielded, and skips what
it already yielded, so the caller sees every message once, in ``seq`` order: no gap, no
duplicate. Should the server's replay window no longer hold what was missed (a long
outage), the gap is filled from the full session log (``GET /tasks/{id}/messages``) where
the server has it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from .. import protocol as p
from .errors import (
    AuthenticationFailed,
    ConnectionLost,
    Forbidden,
    NotFound,
    RequestRefused,
    outcome,
)
from .events import is_terminal, parse_event
from .rest import auth_headers

if TYPE_CHECKING:
    from .client import AsyncClient

#: WebSocket close codes that end the stream instead of a reconnect.
NOT_FOUND_CLOSE = 4404
REVOKED_CLOSE = 4401
POLICY_CLOSE = 1008
#: First and longest pause between reconnect attempts (seconds).
FIRST_BACKOFF = 0.05
MAX_BACKOFF = 1.0


class _Dropped(Exception):
    """The connection ended before the task did: reconnect."""


class Session:
    """A task on the server: its events, its prompts, its outcome.

    Made by ``AsyncClient.start()`` (or ``AsyncClient.session(task_id)`` for a task
    started elsewhere). ``id`` / ``task_id`` is the task's id."""

    def __init__(self, client: AsyncClient, task_id: str) -> None:
        self.client = client
        self.task_id = task_id
        self._terminal: p.SessionMessage | None = None

    @property
    def id(self) -> str:
        return self.task_id

    def __repr__(self) -> str:
        return f"<Session {self.task_id}>"

    async def events(self, since: int = 0) -> AsyncGenerator[p.SessionMessage]:
        """Every session message with ``seq > since``, in order, each once, until the
        terminal one (``task_completed``/``_failed``/``_cancelled``/``_interrupted``).

        Requests come with ``respond()``. A dropped connection is reopened with ``since``;
        ``ConnectionLost`` when that fails for ``reconnect_timeout`` seconds. A ``since`` at
        or past an ended task's last message has nothing left to give: it waits for good
        (``wait()`` and ``AsyncClient.log`` know where the end is)."""
        last = since
        outage: float | None = None
        backoff = FIRST_BACKOFF
        loop = asyncio.get_running_loop()
        while True:
            try:
                ws = await self._open(last)
            except _Dropped as exc:
                outage, backoff = await self._pause(loop, outage, backoff, exc)
                continue
            try:
                async with aclosing(self._read(ws, last)) as events:
                    async for event in events:
                        outage, backoff = None, FIRST_BACKOFF  # it is flowing again
                        last = event.seq
                        if is_terminal(event):
                            self._terminal = event  # before the yield: the caller may stop
                            yield event
                            return
                        yield event
            except _Dropped as exc:
                outage, backoff = await self._pause(loop, outage, backoff, exc)
            finally:
                await ws.close()

    async def _pause(
        self, loop: asyncio.AbstractEventLoop, outage: float | None, backoff: float, why: Exception
    ) -> tuple[float, float]:
        """Wait before the next attempt; give up once the outage is ``reconnect_timeout``."""
        now = loop.time()
        started = now if outage is None else outage
        if now - started >= self.client.reconnect_timeout:
            raise ConnectionLost(
                f"lost the event stream of task {self.task_id} for "
                f"{self.client.reconnect_timeout:g} s: {why}"
            ) from why
        await asyncio.sleep(backoff)
        return started, min(backoff * 2, MAX_BACKOFF)

    async def _open(self, since: int) -> ClientConnection:
        url = f"{self.client.ws_url}/ws/{self.task_id}?since={since}"
        try:
            return await connect(
                url,
                additional_headers=auth_headers(self.client.token),
                max_size=None,
                open_timeout=self.client.timeout,
            )
        except InvalidStatus as exc:
            status = exc.response.status_code
            detail = exc.response.body.decode(errors="replace") if exc.response.body else ""
            refused = {401: AuthenticationFailed, 403: Forbidden, 404: NotFound}.get(status)
            if refused is not None:
                raise refused(status, _detail(detail)) from None
            raise _Dropped(f"handshake answered {status}") from exc
        except (OSError, TimeoutError, InvalidHandshake) as exc:
            raise _Dropped(repr(exc)) from exc

    async def _read(self, ws: ClientConnection, last: int) -> AsyncGenerator[p.SessionMessage]:
        """The messages of one connection after ``last``, gaps filled from the log."""
        try:
            async for raw in ws:
                data = json.loads(raw)
                seq = data.get("seq")
                if not isinstance(seq, int) or "ts" not in data:
                    continue  # a connection message: replay start/complete, pong, error
                if seq <= last:
                    continue  # already yielded before a reconnect
                if seq > last + 1:
                    async with aclosing(self.client.log_between(self.task_id, last, seq)) as log:
                        async for missed in log:
                            last = missed.seq
                            yield missed
                event = parse_event(data, self._respond)
                last = seq
                yield event
        except ConnectionClosed as exc:
            code = exc.rcvd.code if exc.rcvd is not None else None
            reason = exc.rcvd.reason if exc.rcvd is not None else ""
            if code == NOT_FOUND_CLOSE:
                raise NotFound(404, f"Task not found: {self.task_id}") from None
            if code == REVOKED_CLOSE:
                raise AuthenticationFailed(401, reason or "credential revoked") from None
            if code == POLICY_CLOSE:
                raise RequestRefused(400, reason or "refused by the server") from None
            raise _Dropped(f"connection closed ({code} {reason})".strip()) from exc
        except OSError as exc:
            raise _Dropped(repr(exc)) from exc
        raise _Dropped("the server closed the connection before the task ended")

    def _respond(self, request_id: str, answer: Any) -> Any:
        if isinstance(answer, bool):
            return self.confirm(request_id, answer)
        return self.submit(request_id, answer)

    async def confirm(self, request_id: str, value: bool) -> None:
        """Answer confirmation ``request_id`` yes (True) or no (False). ``AnswerRefused``
        when it is no longer open (someone answered first, it timed out)."""
        await self.client.answer(self.task_id, request_id, value=value)

    async def submit(self, request_id: str, values: dict[str, Any]) -> None:
        """Submit form ``request_id``. ``ValidationFailed`` (with ``errors``) when a field
        is invalid; the request stays open."""
        await self.client.answer(self.task_id, request_id, values=values)

    async def cancel(self) -> None:
        """Cancel the task; returns once it has ended."""
        await self.client.cancel(self.task_id)

    async def wait(self) -> Any:
        """The task's result once it completes; raises ``TaskFailed``, ``TaskCancelled`` or
        ``TaskInterrupted`` when it ends otherwise. Answering its prompts is up to you (or
        others): it waits as long as the task does."""
        if self._terminal is None:
            record = await self.client.get(self.task_id)
            since = record.last_seq - 1 if record.status.is_terminal else record.last_seq
            async with aclosing(self.events(since=max(since, 0))) as events:
                async for event in events:
                    if is_terminal(event):
                        break
        assert self._terminal is not None
        return outcome(self.task_id, self._terminal)


def _detail(body: str) -> str:
    try:
        detail = json.loads(body).get("detail")
    except (ValueError, AttributeError):
        return body
    return detail if isinstance(detail, str) else body
