"""The fast path parses client messages only a little ahead of the app: a socket read full of
tiny frames is parsed as the app takes them, in order, and reading resumes after the last."""

from __future__ import annotations

import asyncio
import base64
import os
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from interlock.wire import PARSE_AHEAD, PARSE_SLICE, CoalescingWebSocketProtocol


class SocketTransport(asyncio.Transport):
    """Stands in for a connected socket's transport (outside the project): records writes
    and whether reading is paused."""

    def __init__(self) -> None:
        super().__init__()
        self.written = bytearray()
        self.reading = True
        self.closed = False

    def write(self, data: Any) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def is_reading(self) -> bool:
        return self.reading

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default
        )


def text_frame(text: str) -> bytes:
    """A masked client frame (payload under 126 bytes)."""
    payload, mask = text.encode(), os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


HANDSHAKE = (
    "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
).encode()


async def test_a_read_of_many_frames_is_parsed_as_the_app_takes_them() -> None:
    count = 20_000  # ~320 KiB: more than one socket read's worth of frames
    go = asyncio.Event()
    got: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert (await receive())["type"] == "websocket.connect"
        await send({"type": "websocket.accept"})
        await go.wait()
        while len(got) < count:
            got.append((await receive())["text"])

    config = uvicorn.Config(app, log_config=None, lifespan="off", proxy_headers=False)
    config.load()
    protocol = CoalescingWebSocketProtocol(config, ServerState(), {})
    transport = SocketTransport()
    protocol.connection_made(transport)
    protocol.data_received(HANDSHAKE)
    async with asyncio.timeout(10):
        while not transport.written:  # the 101 response: the app accepted
            await asyncio.sleep(0)
    protocol.data_received(b"".join(text_frame(f"m{i}") for i in range(count)))
    per_slice = PARSE_SLICE // len(text_frame("m0")) + 1  # the shortest frames, one split
    assert protocol.queue.qsize() <= PARSE_AHEAD + per_slice, "parsed far ahead of the app"
    assert not transport.reading
    go.set()
    async with asyncio.timeout(10):
        await asyncio.gather(*protocol.tasks)
    assert got == [f"m{i}" for i in range(count)]
    assert transport.reading, "reading resumes once everything read was parsed"
    protocol.connection_lost(None)
