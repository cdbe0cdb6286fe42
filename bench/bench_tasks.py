"""The benchmarks' task types, as a task module (``INTERLOCK_TASK_MODULES=bench_tasks`` with
bench/ on the path, as bench/cluster.py runs ``interlock serve`` and ``interlock worker``):

* ``bench_stream``: ``count`` stream lines flat out, after a Yes when ``gate``;
* ``bench_paced``: after a Yes, ``count`` lines at ``rate`` per second, each its emit time
  (``time.time()``), as bench/baseline_app.py's ``/paced`` does.
"""

from __future__ import annotations

import asyncio
import time

from pydantic import BaseModel

from interlock.runtime import TaskContext
from interlock.tasks import TaskRegistry


class StreamParams(BaseModel):
    count: int = 1000
    gate: bool = False


class PacedParams(BaseModel):
    rate: float = 50.0
    count: int = 500


def register(registry: TaskRegistry) -> None:
    @registry.task("bench_stream", params=StreamParams)
    async def bench_stream(ctx: TaskContext[StreamParams]) -> dict[str, int]:
        if ctx.params.gate and not await ctx.confirm("Start streaming?"):
            return {"count": 0}
        for i in range(ctx.params.count):
            await ctx.stream(f"line {i}")
        return {"count": ctx.params.count}

    @registry.task("bench_paced", params=PacedParams)
    async def bench_paced(ctx: TaskContext[PacedParams]) -> dict[str, int]:
        if not await ctx.confirm("Start streaming?"):
            return {"count": 0}
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(ctx.params.count):
            await asyncio.sleep(max(0.0, start + i / ctx.params.rate - loop.time()))
            await ctx.stream(repr(time.time()))
        return {"count": ctx.params.count}
