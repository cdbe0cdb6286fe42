"""One WebSocket connection: frames written at once while the socket takes them, else a
bounded outbox drained by its own sender task.

A slow tab never delays the task or other tabs: ``deliver`` never waits. On the fast path
(``interlock.frames``) it writes the shared frame into the socket right away while the
socket is writable and nothing waits before it, so a message reaches 100 idle tabs in one
pass without waking 100 tasks; otherwise it enqueues the JSON text for the sender task.
Once the socket is full (the tab stopped reading) messages wait in the outbox, in order; a
tab whose outbox overflows is unsubscribed at once and closed with 1013 (it reconnects with
``since``). Every close is bounded: a tab that has not taken its close frame within
:data:`CLOSE_TIMEOUT` seconds (it stopped reading and its socket is full) is dropped, by
aborting the TCP connection where the server offers that (``interlock.frames``), and in any
case by ending the sender and ``receive``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from typing import Any

from starlette.websockets import WebSocket, WebSocketDisconnect

from .frames import (
    FRAMES_EXTENSION,
    FrameAbort,
    FrameHangUp,
    FrameWrite,
    FrameWriteNow,
    frame_of,
)

TRY_AGAIN_LATER = 1013
ABNORMAL_CLOSURE = 1006
#: Seconds a closing tab gets to take what is queued and the close frame.
CLOSE_TIMEOUT = 2.0


class Connection:
    """A subscriber of a session's messages, bound to one WebSocket.

    ``on_overflow(connection)`` is called once, from ``deliver``, when the outbox overflows:
    it must unsubscribe the connection (it must not block)."""

    def __init__(
        self,
        websocket: WebSocket,
        session_id: str,
        queue_size: int,
        on_overflow: Callable[[Connection], None] | None = None,
    ) -> None:
        self.websocket = websocket
        self.session_id = session_id
        self.id = uuid.uuid4().hex[:12]
        client = websocket.client
        self.client = f"{client.host}:{client.port}" if client else None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self._sender: asyncio.Task[None] | None = None
        self._on_overflow = on_overflow
        self.close_code: int | None = None
        self.close_reason = "client too slow; reconnect with since"
        #: Set when the connection was given up (its close timed out): stop receiving.
        self.gone = asyncio.Event()
        self._deadline: asyncio.TimerHandle | None = None
        extension = websocket.scope.get("extensions", {}).get(FRAMES_EXTENSION)
        self._write_frames: FrameWrite | None = extension["write"] if extension else None
        self._write_now: FrameWriteNow | None = extension.get("write_now") if extension else None
        self._abort: FrameAbort | None = extension.get("abort") if extension else None
        #: Something waits in the outbox or in the sender: later messages must queue behind.
        self._backlog = False
        self._hang_up: FrameHangUp | None = extension.get("hang_up") if extension else None

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name=f"ws-send-{self.id}")

    def deliver(self, data: str) -> None:
        if self.close_code is not None:
            return
        write_now = self._write_now
        if write_now is not None and not self._backlog and write_now(frame_of(data)):
            return
        self._backlog = True
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            if self._on_overflow is not None:
                self._on_overflow(self)
            self._close(TRY_AGAIN_LATER, self.close_reason, drop_queued=True)

    def close(self, code: int, reason: str) -> None:
        """Close now with ``code``: what waits in the outbox is dropped, nothing more is
        delivered, and the close is bounded like every other (it never blocks)."""
        if self.close_code is None:
            self._close(code, reason, drop_queued=True)

    def _close(self, code: int, reason: str, *, drop_queued: bool) -> None:
        """Queue the close marker and start the clock on it."""
        self.close_code = code
        self.close_reason = reason
        self._backlog = True
        # An overflowing tab drops what waits: it replays it after reconnecting.
        if drop_queued or self._queue.full():
            while not self._queue.empty():
                self._queue.get_nowait()
        self._queue.put_nowait(None)
        if self._deadline is None:
            loop = asyncio.get_running_loop()
            self._deadline = loop.call_later(CLOSE_TIMEOUT, self._give_up)

    def _give_up(self) -> None:
        """The close was not done in time: the client stopped reading. Drop it.

        Harmless when it was done (the abort is then a no-op), so it is never cancelled:
        a close frame written is not a close frame read."""
        if self._abort is not None:
            self._abort()
        if self._sender is not None:
            self._sender.cancel()
        self.gone.set()

    async def receive(self) -> dict[str, Any]:
        """The next ASGI event from the client, or a disconnect once the tab was given up."""
        if self._abort is not None:  # giving up aborts the connection: receive() ends then
            return dict(await self.websocket.receive())
        if self.gone.is_set():
            return {"type": "websocket.disconnect", "code": ABNORMAL_CLOSURE}
        receiving = asyncio.ensure_future(self.websocket.receive())
        gone = asyncio.ensure_future(self.gone.wait())
        try:
            done, _ = await asyncio.wait({receiving, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            if not receiving.done():
                receiving.cancel()
        if receiving in done:
            return dict(receiving.result())
        return {"type": "websocket.disconnect", "code": ABNORMAL_CLOSURE}

    async def _send_loop(self) -> None:
        ws = self.websocket
        try:
            if self._write_frames is None:
                while (data := await self._queue.get()) is not None:
                    await ws.send_text(data)
            elif not await self._send_frames(self._write_frames):
                return
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        if self.close_code is not None:
            with contextlib.suppress(Exception):
                await ws.close(self.close_code, self.close_reason)

    async def _send_frames(self, write: FrameWrite) -> bool:
        """Drain the outbox as shared, ready-made frames: all that waits, in one write.

        Returns True at the close marker, False when the connection went away first."""
        queue = self._queue
        while True:
            item = await queue.get()
            frames: list[bytes] = []
            while item is not None:
                frames.append(frame_of(item))
                if queue.empty():
                    break
                item = queue.get_nowait()
            if frames and not await write(b"".join(frames)):
                return False
            if item is None:
                return True
            if queue.empty():  # all written: ``deliver`` may write directly again
                self._backlog = False

    async def aclose(self) -> None:
        """Stop the sender (after the receive loop ended)."""
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    async def drain_and_close(self, code: int, reason: str = "", *, hang_up: bool = False) -> None:
        """Send what is queued, then close with ``code`` and ``reason`` (bounded in time).

        ``hang_up``: then close the TCP connection without waiting for the client's close
        reply, where the server offers it (``interlock.frames``): for a flooder, which would
        keep the server reading what it sends meanwhile."""
        self._close(code, reason, drop_queued=False)
        if self._sender is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender
        if hang_up and self._hang_up is not None:
            self._hang_up()
