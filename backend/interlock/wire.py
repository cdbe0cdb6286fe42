"""WebSocket output for uvicorn: frames built once, writes coalesced.

Two costs dominate fan-out and replay through plain ASGI: every tab serializes every frame
again, and every frame is its own ``transport.write`` and so, on an idle socket, its own
``send`` system call. ``CoalescingWebSocketProtocol`` removes both:

* Its transport buffers every write of one event-loop step and hands them to the socket in
  one call at the end of the step. Order is kept and nothing waits longer than one step.
* It offers the ASGI extension ``interlock.frames``: an awaitable ``write(frames)`` that
  puts ready-made frame bytes on the connection. A session message becomes a frame once
  (``frame_of``) and every tab writes the same bytes. These frames are not compressed (a
  message may be sent uncompressed even where permessage-deflate was negotiated, RFC 7692).

Other servers simply lack the extension; ``Connection`` then sends through ASGI.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from .frames import FRAMES_EXTENSION


class CoalescingTransport(asyncio.Transport):
    """Wraps a transport: ``write`` buffers, a ``call_soon`` callback flushes."""

    def __init__(self, inner: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._inner = inner
        self._loop = loop
        self._pending: list[bytes] = []
        self._scheduled = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        self._pending.append(bytes(data))
        if not self._scheduled:
            self._scheduled = True
            self._loop.call_soon(self.flush)

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        self._scheduled = False
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            if not self._inner.is_closing():
                self._inner.write(data)

    def close(self) -> None:
        self.flush()
        self._inner.close()

    def abort(self) -> None:
        self._pending.clear()
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + sum(map(len, self._pending))

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._inner.get_write_buffer_limits()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self.flush()
        self._inner.write_eof()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()


class CoalescingWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol writing through a ``CoalescingTransport``."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but quack the same.
        inner = cast(asyncio.Transport, transport)
        super().connection_made(CoalescingTransport(inner, self.loop))

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        if not self.close_sent:  # the handshake was not refused
            self.scope["extensions"][FRAMES_EXTENSION] = {"write": self.write_frames}

    async def write_frames(self, frames: bytes) -> bool:
        """Write ready-made frames after the app accepted; waits while the socket is full."""
        await self.writable.wait()
        if self.disconnected or self.close_sent or self.transport.is_closing():
            return False
        self.transport.write(frames)
        return True
