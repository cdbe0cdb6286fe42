"""Finding what blocks the event loop: asyncio's debug mode, with a busy machine told apart.

``watch_loop`` turns on asyncio's debug mode with a ``SLOW_CALLBACK`` threshold: asyncio then
logs every callback that held the loop that long ("Executing <Handle ...> took 0.123
seconds"). It measures wall-clock time, so where more threads want to run than there are
cores, a harmless callback "takes" 100 ms while it merely waits for a CPU (or for the GIL,
held by a thread of this process that waits for a CPU). That is the machine's load, not a
blocking call, and reporting it would bury the real ones.

So each report is weighed. On Linux every thread's ``schedstat`` counts the time it spent
on a CPU and waiting for one. A sampler thread notes those of every thread of this process
every ``SAMPLE_EVERY`` seconds; when asyncio reports a callback, the time it waited for a
CPU, and the time the process's other threads waited for one, are taken off its duration.
What remains (never less than the CPU time the callback used) is what it cost the loop by
itself (``own_time``): a sleep, a file read, a thread join, a controller call, or plain
computation. Under ``SLOW_CALLBACK`` the report is rewritten as an ``INFO`` line that says it
was excused; otherwise asyncio's warning stays, with the figures appended.

On a quiet machine nothing is taken off and the check is exact; under load it is lenient
rather than wrong. Without ``schedstat`` (not Linux) asyncio's reports stay as they are.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
import threading
import time
from pathlib import Path

#: Callbacks that hold the loop this long by themselves are reported.
SLOW_CALLBACK = 0.1
#: Seconds between two samples of the threads' scheduler counters.
SAMPLE_EVERY = 0.01
#: Samples kept (seconds of history = SAMPLE_EVERY * SAMPLES).
SAMPLES = 500

_TASKS = Path("/proc/self/task")
#: ``{native thread id: (seconds on a CPU, seconds waiting for one)}``
Counters = dict[int, tuple[float, float]]


def own_time(
    took: float, on_cpu: float, waited_for_cpu: float, others_waited_for_cpu: float
) -> float:
    """The part of a callback's ``took`` seconds that it held the loop by itself: minus the
    time its thread waited for a CPU and the time the process's other threads waited for one
    (one of them may have held the GIL), but never less than the CPU time it used."""
    return max(on_cpu, took - waited_for_cpu - others_waited_for_cpu)


def read_counters() -> Counters | None:
    """Every thread's scheduler counters, or None where the system keeps none."""
    counters: Counters = {}
    try:
        tids = os.listdir(_TASKS)
    except OSError:
        return None
    for tid in tids:
        try:
            on_cpu, waited, _ = (_TASKS / tid / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue  # the thread ended meanwhile
        counters[int(tid)] = (int(on_cpu) / 1e9, int(waited) / 1e9)
    return counters or None


class _Sampler(threading.Thread):
    """Notes every thread's counters every ``SAMPLE_EVERY`` seconds (one per process)."""

    def __init__(self, first: Counters) -> None:
        super().__init__(name="interlock-loopwatch", daemon=True)
        self.samples: collections.deque[tuple[float, Counters]] = collections.deque(
            [(time.monotonic(), first)], maxlen=SAMPLES
        )
        #: This thread's native id: its own waits for a CPU (every SAMPLE_EVERY, briefly
        #: holding the GIL) would excuse too much if they counted.
        self.tid = 0

    def run(self) -> None:
        self.tid = threading.get_native_id()
        while True:
            counters = read_counters()
            if counters is not None:
                self.samples.append((time.monotonic(), counters))
            time.sleep(SAMPLE_EVERY)

    def before(self, moment: float) -> Counters | None:
        """The last sample taken at or before ``moment`` (else the oldest one)."""
        found = None
        for taken, counters in list(self.samples):
            if taken > moment and found is not None:
                break
            found = counters
        return found


class _Weigh(logging.Filter):
    """Rewrites asyncio's slow-callback reports that the machine's load explains."""

    def __init__(self, sampler: _Sampler) -> None:
        super().__init__()
        self.sampler = sampler

    def filter(self, record: logging.LogRecord) -> bool:
        # asyncio logs on the loop's thread right after the callback: "now" is its end.
        args = record.args
        if not str(record.msg).startswith("Executing ") or not isinstance(args, tuple):
            return True
        took = args[-1]
        if not isinstance(took, float):
            return True
        start = self.sampler.before(time.monotonic() - took)
        end = read_counters()
        me = threading.get_native_id()
        if start is None or end is None or me not in end:
            return True

        def since_start(tid: int, field: int) -> float:
            # A thread missing from the sample started after it: it counted from zero.
            return end[tid][field] - start.get(tid, (0.0, 0.0))[field]

        on_cpu, waited = since_start(me, 0), since_start(me, 1)
        others = sum(since_start(tid, 1) for tid in end if tid not in (me, self.sampler.tid))
        own = own_time(took, on_cpu, waited, others)
        figures = (
            f"{own:.3f} s its own, {on_cpu:.3f} s on a CPU, {waited:.3f} s waiting for one, "
            f"{others:.3f} s of other threads waiting for one"
        )
        if own >= SLOW_CALLBACK:
            record.msg = f"{record.msg} ({figures})"
        else:
            record.msg = f"Slow callback excused, the machine was busy: {record.msg} ({figures})"
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
        return True


_lock = threading.Lock()
_weigh: _Weigh | None = None


def watch_loop(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio debug mode on ``loop``: callbacks that hold it ``SLOW_CALLBACK`` seconds or
    more by themselves are logged as warnings by the ``asyncio`` logger ("Executing <...>
    took N seconds"), and misuse such as a call from another thread raises. Slower: for
    tests and for finding what blocks."""
    global _weigh
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK
    with _lock:
        first = read_counters() if _weigh is None else None
        if first is not None:
            sampler = _Sampler(first)
            sampler.start()
            _weigh = _Weigh(sampler)
            logging.getLogger("asyncio").addFilter(_weigh)
