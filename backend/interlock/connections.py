"""One WebSocket connection: a bounded outbox drained by its own sender task.

A slow tab never delays the task or other tabs: ``deliver`` only enqueues the shared JSON
text. A tab whose outbox fills up is closed with 1013 and reconnects with ``since``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

from starlette.websockets import WebSocket, WebSocketDisconnect

from .frames import FRAMES_EXTENSION, FrameWrite, frame_of

TRY_AGAIN_LATER = 1013


class Connection:
    """A subscriber of a session's messages, bound to one WebSocket."""

    def __init__(self, websocket: WebSocket, session_id: str, queue_size: int) -> None:
        self.websocket = websocket
        self.session_id = session_id
        self.id = uuid.uuid4().hex[:12]
        client = websocket.client
        self.client = f"{client.host}:{client.port}" if client else None
        self._queue: asyncio.Queue[str | None] = asyncio.Queue(queue_size)
        self._sender: asyncio.Task[None] | None = None
        self.close_code: int | None = None
        self.close_reason = "client too slow; reconnect with since"
        extension = websocket.scope.get("extensions", {}).get(FRAMES_EXTENSION)
        self._write_frames: FrameWrite | None = extension["write"] if extension else None

    def start(self) -> None:
        self._sender = asyncio.create_task(self._send_loop(), name=f"ws-send-{self.id}")

    def deliver(self, data: str) -> None:
        if self.close_code is not None:
            return
        try:
            self._queue.put_nowait(data)
        except asyncio.QueueFull:
            self.close_code = TRY_AGAIN_LATER
            self._abort()

    def _abort(self) -> None:
        # Make room for the close marker; the tab replays what it missed after reconnecting.
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

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

    async def aclose(self) -> None:
        """Stop the sender (after the receive loop ended)."""
        if self._sender is not None and not self._sender.done():
            self._sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sender

    async def drain_and_close(self, code: int, reason: str = "") -> None:
        """Send what is queued, then close with ``code`` and ``reason``."""
        self.close_code = code
        self.close_reason = reason
        try:
            self._queue.put_nowait(None)
        except asyncio.QueueFull:
            self._abort()
        if self._sender is not None:
            await self._sender
