"""Write coalescing: one socket write per event-loop step, order kept."""

from __future__ import annotations

import asyncio
from typing import Any

from interlock.wire import CoalescingTransport


class RecordingTransport(asyncio.Transport):
    """Stands in for the socket transport (outside the project): records each write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def get_write_buffer_size(self) -> int:
        return 0


async def test_writes_of_one_step_become_one_write_in_order() -> None:
    inner = RecordingTransport()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    for i in range(100):
        t.write(f"{i},".encode())
    assert inner.writes == []
    assert t.get_write_buffer_size() == sum(len(f"{i},") for i in range(100))
    await asyncio.sleep(0)
    assert inner.writes == ["".join(f"{i}," for i in range(100)).encode()]
    t.write(b"next")
    await asyncio.sleep(0)
    assert inner.writes[-1] == b"next"


async def test_close_flushes_first_and_abort_drops() -> None:
    inner = RecordingTransport()
    t = CoalescingTransport(inner, asyncio.get_running_loop())
    t.write(b"last words")
    t.close()
    assert inner.writes == [b"last words"] and inner.closed
    inner2 = RecordingTransport()
    t2 = CoalescingTransport(inner2, asyncio.get_running_loop())
    t2.write(b"never")
    t2.abort()
    await asyncio.sleep(0)
    assert inner2.writes == [] and inner2.aborted
