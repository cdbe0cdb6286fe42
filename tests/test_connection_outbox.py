"""A connection's bounded outbox: order, overflow (1013), a close that sends what is queued
first. The WebSocket is a small fake of the part of
starlette's ``WebSocket`` a ``Connection`` uses."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

import pytest
from starlette.datastructures import Address
from starlette.websockets import WebSocket, WebSocketDisconnect

from interlock.connections import TRY_AGAIN_LATER, Connection
from interlock.frames import FRAMES_EXTENSION, frame_of

QUEUE = 16
TIMEOUT = 5


class FakeWebSocket:
    """A tab: records what it is sent and how it is closed. ``stall()`` makes it stop
    reading (``send_text`` waits until ``resume()``); ``gone()`` makes every send fail as
    a vanished client does. With ``frames`` it offers the ``interlock.frames`` extension
    the way ``interlock.wire`` does."""

    def __init__(self, *, frames: bool = False) -> None:
        self.client = Address("127.0.0.1", 50123)
        self.scope: dict[str, Any] = {}
        if frames:
            self.scope["extensions"] = {FRAMES_EXTENSION: {"write": self.write_frames}}
        self.sent: list[str] = []
        self.writes: list[bytes] = []
        self.closed: tuple[int, str | None] | None = None
        self.accepting = True  # what write_frames answers
        self._reading = asyncio.Event()
        self._reading.set()
        self._gone = False
        self._changed = asyncio.Condition()
        self.sending = 0  # sends started (and maybe stalled)

    def stall(self) -> None:
        self._reading.clear()

    def resume(self) -> None:
        self._reading.set()

    def gone(self) -> None:
        self._gone = True

    async def _note(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, condition: Callable[[], bool]) -> None:
        """Wait (bounded) until ``condition()`` holds after something happened here."""
        async with asyncio.timeout(TIMEOUT), self._changed:
            await self._changed.wait_for(condition)

    async def send_text(self, data: str) -> None:
        self.sending += 1
        await self._note()
        await self._reading.wait()
        if self._gone:
            raise WebSocketDisconnect(1006)
        self.sent.append(data)
        await self._note()

    async def write_frames(self, frames: bytes) -> bool:
        self.sending += 1
        await self._note()
        await self._reading.wait()
        if not self.accepting:
            return False
        self.writes.append(frames)
        await self._note()
        return True

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        self.closed = (code, reason)
        await self._note()


def connect(ws: FakeWebSocket, queue_size: int = QUEUE) -> Connection:
    return Connection(cast(WebSocket, ws), "session-1", queue_size)


def lines(n: int, start: int = 0) -> list[str]:
    return [f'{{"seq": {i}}}' for i in range(start, start + n)]


@pytest.fixture
def ws() -> FakeWebSocket:
    return FakeWebSocket()


async def test_delivered_messages_go_out_in_order(ws: FakeWebSocket) -> None:
    conn = connect(ws)
    assert conn.client == "127.0.0.1:50123"
    conn.start()
    for line in lines(5):
        conn.deliver(line)
    await ws.until(lambda: len(ws.sent) == 5)
    assert ws.sent == lines(5)
    await conn.aclose()


async def test_drain_and_close_sends_everything_queued_then_closes(ws: FakeWebSocket) -> None:
    conn = connect(ws)
    for line in lines(QUEUE - 1):
        conn.deliver(line)
    conn.start()
    await conn.drain_and_close(1001, "server shutdown")
    assert ws.sent == lines(QUEUE - 1)
    assert ws.closed == (1001, "server shutdown")


async def test_the_outbox_holds_queue_size_messages_and_one_more_closes_1013(
    ws: FakeWebSocket,
) -> None:
    conn = connect(ws)
    for line in lines(QUEUE):
        conn.deliver(line)
    assert conn.close_code is None, "a full outbox is not an overflow yet"
    conn.deliver("one too many")
    assert conn.close_code == TRY_AGAIN_LATER
    conn.start()
    await ws.until(lambda: ws.closed is not None)
    # The backlog is dropped, not sent late: the tab reconnects with since and replays.
    assert ws.sent == []
    assert ws.closed == (TRY_AGAIN_LATER, "client too slow; reconnect with since")


async def test_a_tab_that_stops_reading_is_closed_1013_and_never_holds_the_sender(
    ws: FakeWebSocket,
) -> None:
    conn = connect(ws)
    conn.start()
    ws.stall()
    conn.deliver("in flight")
    await ws.until(lambda: ws.sending == 1)  # the sender waits on the stalled tab
    for line in lines(QUEUE + 1):
        conn.deliver(line)  # never blocks the caller (the journal's delivery)
    assert conn.close_code == TRY_AGAIN_LATER
    conn.deliver("after the overflow")  # ignored
    ws.resume()
    await ws.until(lambda: ws.closed is not None)
    assert ws.sent == ["in flight"]
    assert ws.closed is not None and ws.closed[0] == TRY_AGAIN_LATER


async def test_drain_and_close_closes_a_stalled_tab_with_a_full_outbox(
    ws: FakeWebSocket,
) -> None:
    conn = connect(ws)
    conn.start()
    ws.stall()
    conn.deliver("in flight")
    await ws.until(lambda: ws.sending == 1)
    for line in lines(QUEUE):
        conn.deliver(line)
    closing = asyncio.create_task(conn.drain_and_close(1001, "server shutdown"))
    await asyncio.sleep(0)
    assert not closing.done(), "drain_and_close waits for the sender"
    ws.resume()
    async with asyncio.timeout(TIMEOUT):
        await closing
    assert ws.closed == (1001, "server shutdown")
    assert ws.sent[0] == "in flight"


async def test_a_vanished_client_ends_the_sender_without_a_close(ws: FakeWebSocket) -> None:
    conn = connect(ws)
    ws.gone()
    conn.start()
    conn.deliver("nobody reads this")
    async with asyncio.timeout(TIMEOUT):
        await conn.drain_and_close(1000)
    assert ws.sent == [] and ws.closed is None


async def test_aclose_stops_the_sender_and_sends_no_close(ws: FakeWebSocket) -> None:
    conn = connect(ws)
    conn.start()
    ws.stall()
    conn.deliver("in flight")
    await ws.until(lambda: ws.sending == 1)
    async with asyncio.timeout(TIMEOUT):
        await conn.aclose()
    assert ws.closed is None
    ws.resume()
    await asyncio.sleep(0)
    assert ws.sent == []


async def test_with_the_frames_extension_what_waits_goes_out_in_one_write() -> None:
    ws = FakeWebSocket(frames=True)
    conn = connect(ws)
    for line in lines(3):
        conn.deliver(line)
    conn.start()
    await conn.drain_and_close(1000, "done")
    assert ws.writes == [b"".join(frame_of(line) for line in lines(3))]
    assert ws.sent == []
    assert ws.closed == (1000, "done")


async def test_with_the_frames_extension_a_closing_connection_ends_the_sender() -> None:
    ws = FakeWebSocket(frames=True)
    ws.accepting = False
    conn = connect(ws)
    conn.start()
    conn.deliver("too late")
    async with asyncio.timeout(TIMEOUT):
        await conn.drain_and_close(1000)
    assert ws.writes == [] and ws.closed is None
