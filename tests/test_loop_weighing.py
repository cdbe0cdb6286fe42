"""``interlock.loopwatch``: a callback that blocks the loop is reported; one that only waited
for a CPU on a busy machine is excused."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from interlock.loopwatch import (
    SAMPLE_EVERY,
    SLOW_CALLBACK,
    own_time,
    read_counters,
    watch_loop,
)

needs_schedstat = pytest.mark.skipif(
    read_counters() is None, reason="the kernel keeps no per-thread scheduler counters"
)


def test_time_waiting_for_a_cpu_is_not_the_callbacks_own() -> None:
    assert own_time(0.3, on_cpu=0.01, waited_for_cpu=0.0, others_waited_for_cpu=0.0) == 0.3
    assert own_time(0.3, on_cpu=0.05, waited_for_cpu=0.2, others_waited_for_cpu=0.0) == (
        pytest.approx(0.1)
    )
    # Another thread of the process waited for a CPU (it may have held the GIL).
    assert own_time(0.3, on_cpu=0.01, waited_for_cpu=0.0, others_waited_for_cpu=0.25) == (
        pytest.approx(0.05)
    )


def test_cpu_time_a_callback_used_always_counts() -> None:
    assert own_time(0.3, on_cpu=0.2, waited_for_cpu=0.3, others_waited_for_cpu=0.3) == 0.2


def reports(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "asyncio" and "Executing" in r.getMessage()]


async def run_callback(fn: Callable[[], object]) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    def step() -> None:
        fn()
        done.set_result(None)

    # Scheduled a few samples ahead: the loop idles until then, so the counters sampled
    # last before the callback are its own, not those of the test's set-up.
    loop.call_later(5 * SAMPLE_EVERY, step)
    await done


@pytest.fixture
def one_cpu() -> Iterator[None]:
    """This thread and a busy process share one CPU: each gets about half of it."""
    cpu = min(os.sched_getaffinity(0))
    before = os.sched_getaffinity(0)
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        os.sched_setaffinity(busy.pid, {cpu})
        os.sched_setaffinity(0, {cpu})  # 0: the calling thread
        yield
    finally:
        os.sched_setaffinity(0, before)
        busy.kill()
        busy.wait()


@needs_schedstat
async def test_a_callback_that_sleeps_on_the_loop_is_reported(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch_loop(asyncio.get_running_loop())
    await run_callback(lambda: time.sleep(SLOW_CALLBACK * 3))
    (record,) = reports(caplog)
    assert record.levelno == logging.WARNING
    assert "s its own" in record.getMessage()


@needs_schedstat
@pytest.mark.usefixtures("one_cpu")
async def test_a_callback_that_only_waited_for_a_cpu_is_excused(
    caplog: pytest.LogCaptureFixture,
) -> None:
    watch_loop(asyncio.get_running_loop())

    def compute() -> None:
        # 70 ms of CPU: on half a CPU that is 140 ms, over the threshold, of which half
        # was spent waiting for the CPU.
        start = time.thread_time()
        while time.thread_time() - start < SLOW_CALLBACK * 0.7:
            pass

    await run_callback(compute)
    (record,) = reports(caplog)
    assert record.levelno == logging.INFO, record.getMessage()
    assert record.getMessage().startswith("Slow callback excused, the machine was busy")
