"""Task types for servers run as subprocesses (loaded with INTERLOCK_TASK_MODULES)."""

from __future__ import annotations

import time

from pydantic import BaseModel

from interlock.runtime import TaskContext
from interlock.tasks import TaskRegistry


class StuckParams(BaseModel):
    seconds: float = 120.0


async def stuck_thread(ctx: TaskContext[StuckParams]) -> None:
    """Blocks a worker thread that nothing can interrupt (a hung vendor SDK call)."""
    await ctx.stream("calling")
    await ctx.run_blocking(time.sleep, ctx.params.seconds)


def register(registry: TaskRegistry) -> None:
    registry.task("stuck_thread", params=StuckParams)(stuck_thread)
