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


class HoldParams(BaseModel):
    seconds: float = 0.3


async def hold_the_loop(ctx: TaskContext[HoldParams]) -> None:
    """The mistake the slow-callback check exists for: a blocking call on the event loop."""
    await ctx.stream("blocking the loop")
    time.sleep(ctx.params.seconds)  # noqa: ASYNC251 - on purpose


async def confirm_then_fail(ctx: TaskContext[BaseModel]) -> None:
    """Asks once, then fails with a traceback (its log line names the session)."""
    await ctx.confirm("Proceed?")
    raise RuntimeError("boom after the answer")


def register(registry: TaskRegistry) -> None:
    registry.task("stuck_thread", params=StuckParams)(stuck_thread)
    registry.task("hold_the_loop", params=HoldParams)(hold_the_loop)
    registry.task("confirm_then_fail")(confirm_then_fail)
