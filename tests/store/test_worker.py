"""The store thread: calls run in order on one thread, a caller that gave up before its call
started skips it, and a closed thread refuses calls at once."""

from __future__ import annotations

import asyncio
import functools
import threading

import pytest

from interlock.exceptions import StoreUnavailable
from interlock.store.worker import StoreThread


async def test_calls_run_in_order_on_one_thread() -> None:
    worker = StoreThread("the test store", timeout=5)
    seen: list[tuple[int, str]] = []

    def call(i: int) -> int:
        seen.append((i, threading.current_thread().name))
        return i * 10

    try:
        results = await asyncio.gather(
            *(worker.call(functools.partial(call, i)) for i in range(20))
        )
    finally:
        await worker.close(lambda: None)
    assert results == [i * 10 for i in range(20)]
    assert [i for i, _ in seen] == list(range(20))
    assert len({name for _, name in seen}) == 1
    assert seen[0][1] != threading.current_thread().name


async def test_a_call_whose_caller_gave_up_before_it_started_is_skipped() -> None:
    worker = StoreThread("the test store", timeout=5)
    release = threading.Event()
    ran: list[str] = []
    try:
        blocking = asyncio.ensure_future(worker.call(lambda: release.wait(5)))
        queued = asyncio.ensure_future(worker.call(lambda: ran.append("queued")))
        await asyncio.sleep(0)  # both submitted; the thread is held by the first
        queued.cancel()
        with pytest.raises(asyncio.CancelledError):
            await queued
        release.set()
        assert await blocking is True
        await worker.call(lambda: ran.append("after"))
    finally:
        release.set()
        await worker.close(lambda: None)
    assert ran == ["after"]


async def test_an_error_reaches_the_caller_and_the_thread_goes_on() -> None:
    worker = StoreThread("the test store", timeout=5)

    def fail() -> None:
        raise ValueError("broken")

    try:
        with pytest.raises(ValueError, match="broken"):
            await worker.call(fail)
        assert await worker.call(lambda: 42) == 42
    finally:
        await worker.close(lambda: None)


async def test_a_closed_thread_refuses_calls_at_once() -> None:
    worker = StoreThread("the test store", timeout=5)
    closed: list[bool] = []
    await worker.close(lambda: closed.append(True))
    assert closed == [True]
    with pytest.raises(StoreUnavailable, match="the test store is closed"):
        await worker.call(lambda: None)
