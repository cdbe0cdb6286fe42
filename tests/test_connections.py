"""A connection writes a message straight into an idle socket, in the step that delivers it;
once the socket is full, messages wait in the outbox in order, and an overflow closes 1013."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from starlette.types import Message
from starlette.websockets import WebSocket

from interlock.connections import TRY_AGAIN_LATER, Connection
from interlock.frames import FRAMES_EXTENSION, WireText, frame_of


class FakeFrames:
    """The server side of ``interlock.frames`` over a socket that can be made to fill up."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.changed = asyncio.Event()

    def write_now(self, frames: bytes) -> bool:
        if not self.writable.is_set():
            return False
        self._take(frames)
        return True

    async def write(self, frames: bytes) -> bool:
        await self.writable.wait()
        self._take(frames)
        return True

    def abort(self) -> None:
        pass

    def _take(self, frames: bytes) -> None:
        self.sent.append(frames)
        self.changed.set()

    async def until_sent(self, size: int) -> bytes:
        """Everything written, once it is ``size`` bytes long."""
        async with asyncio.timeout(5):
            while len(data := b"".join(self.sent)) < size:
                self.changed.clear()
                await self.changed.wait()
        return data


async def no_receive() -> Message:
    await asyncio.Event().wait()  # these tests never read from the client
    return {}


async def sent_over_asgi(message: Message) -> None:
    pass


@pytest.fixture
def frames() -> FakeFrames:
    return FakeFrames()


@pytest.fixture
def overflowed() -> list[Connection]:
    """The connections whose ``on_overflow`` was called."""
    return []


@pytest.fixture
async def conn(frames: FakeFrames, overflowed: list[Connection]) -> AsyncIterator[Connection]:
    scope = {
        "type": "websocket",
        "path": "/ws/s",
        "headers": [],
        "query_string": b"",
        "client": ("127.0.0.1", 50000),
        "extensions": {
            FRAMES_EXTENSION: {
                "write": frames.write,
                "write_now": frames.write_now,
                "abort": frames.abort,
            }
        },
    }
    connection = Connection(WebSocket(scope, no_receive, sent_over_asgi), "s", 4, overflowed.append)
    connection.start()
    yield connection
    await connection.aclose()


def texts(*items: str) -> list[WireText]:
    return [WireText(f'{{"n":"{item}"}}') for item in items]


async def test_an_idle_tab_gets_the_frame_in_the_step_that_delivers_it(
    conn: Connection, frames: FakeFrames
) -> None:
    (message,) = texts("a")
    conn.deliver(message)
    assert frames.sent == [frame_of(message)]  # no task switch, no later loop step


async def test_behind_a_full_socket_messages_wait_in_order(
    conn: Connection, frames: FakeFrames
) -> None:
    a, b, c = texts("a", "b", "c")
    frames.writable.clear()
    conn.deliver(a)
    frames.writable.set()  # writable again, but ``a`` still waits in the outbox:
    conn.deliver(b)  # ``b`` must not overtake it
    assert frames.sent == []
    expected = frame_of(a) + frame_of(b)
    assert await frames.until_sent(len(expected)) == expected
    conn.deliver(c)  # the outbox is empty again: written at once
    assert b"".join(frames.sent) == expected + frame_of(c)


async def test_an_outbox_that_overflows_closes_1013_and_unsubscribes(
    conn: Connection, frames: FakeFrames, overflowed: list[Connection]
) -> None:
    frames.writable.clear()
    for message in texts(*"abcdef"):
        conn.deliver(message)
    assert conn.close_code == TRY_AGAIN_LATER
    assert overflowed == [conn]
    assert frames.sent == []
