"""Task types for servers run as subprocesses (loaded with INTERLOCK_TASK_MODULES)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field

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


class ConfirmManyParams(BaseModel):
    count: int = Field(1, ge=1, le=1000)
    lines: int = Field(0, ge=0, description="stream lines before each prompt")


async def confirm_many(ctx: TaskContext[ConfirmManyParams]) -> dict[str, Any]:
    """Asks ``count`` confirmations in a row; returns every answer, in order."""
    answers = []
    for n in range(1, ctx.params.count + 1):
        for i in range(ctx.params.lines):
            await ctx.stream(f"prompt {n}, line {i}")
        answers.append(await ctx.confirm(f"Step {n} of {ctx.params.count}?"))
    return {"answers": answers}


class PacedParams(BaseModel):
    count: int = Field(100, ge=1)
    pause: float = Field(0.01, ge=0)


async def paced_lines(ctx: TaskContext[PacedParams]) -> dict[str, Any]:
    """Streams ``count`` lines, ``pause`` seconds apart."""
    for i in range(ctx.params.count):
        await ctx.stream(f"line {i}")
        await asyncio.sleep(ctx.params.pause)
    return {"lines": ctx.params.count}


def register(registry: TaskRegistry) -> None:
    registry.task("stuck_thread", params=StuckParams)(stuck_thread)
    registry.task("hold_the_loop", params=HoldParams)(hold_the_loop)
    registry.task("confirm_then_fail")(confirm_then_fail)
    registry.task("confirm_many", params=ConfirmManyParams)(confirm_many)
    registry.task("paced_lines", params=PacedParams)(paced_lines)
