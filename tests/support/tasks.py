"""Task types used only by tests, registered next to the built-ins."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from pydantic import BaseModel, Field

from interlock.auth import Role
from interlock.runtime import TaskContext
from interlock.tasks import TaskRegistry, builtin_registry
from tests.support.server import LiveServer


class ConfirmParams(BaseModel):
    prompt: str = "Proceed?"
    kind: str = "confirm"
    timeout: float | None = None
    default: bool = False
    before: int = Field(0, description="stream messages sent before asking")


class AskParams(BaseModel):
    timeout: float | None = None


class ChattyParams(BaseModel):
    count: int = 10
    confirm_at: int | None = None
    pause: float = 0.0


class BigParams(BaseModel):
    count: int = 100
    size: int = 1024
    pause: float = 0.0


class HoldParams(BaseModel):
    resources: list[str] = Field(default_factory=list)


class BlockParams(BaseModel):
    seconds: float = 3600
    cleanup: float = 0.0


def _sleep_and_time(seconds: float) -> float:
    start = time.monotonic()
    time.sleep(seconds)
    return time.monotonic() - start


def make_registry() -> TaskRegistry:  # noqa: C901 - one nested def per task type
    registry = builtin_registry()

    @registry.task("confirm_once", params=ConfirmParams)
    async def confirm_once(ctx: TaskContext[ConfirmParams]) -> dict[str, Any]:
        for i in range(ctx.params.before):
            await ctx.stream(f"line {i}")
        answer = await ctx.confirm(
            ctx.params.prompt,
            kind=ctx.params.kind,
            timeout=ctx.params.timeout,
            default=ctx.params.default,
            details={"axis": "x"},
        )
        return {"answer": answer}

    @registry.task("ask_once", params=AskParams)
    async def ask_once(ctx: TaskContext[AskParams]) -> dict[str, Any]:
        fields: list[dict[str, Any]] = [
            {"name": "name", "description": "Your name", "type": "string"},
            {"name": "count", "description": "How many", "type": "integer"},
            {"name": "email", "description": "E-mail", "type": "email", "required": False},
        ]
        return await ctx.ask(fields, prompt="Fill in", timeout=ctx.params.timeout)

    @registry.task("chatty", params=ChattyParams)
    async def chatty(ctx: TaskContext[ChattyParams]) -> dict[str, Any]:
        answer = None
        for i in range(1, ctx.params.count + 1):
            await ctx.stream(f"line {i}")
            if ctx.params.pause:
                await asyncio.sleep(ctx.params.pause)
            if i == ctx.params.confirm_at:
                answer = await ctx.confirm("Keep going?")
        return {"lines": ctx.params.count, "answer": answer}

    @registry.task("confirm_while_streaming", params=ChattyParams)
    async def confirm_while_streaming(ctx: TaskContext[ChattyParams]) -> dict[str, Any]:
        """Asks, then streams ``count`` lines while the request is open."""

        async def flood() -> None:
            await asyncio.sleep(0)  # let the request go out first
            for i in range(ctx.params.count):
                await ctx.stream(f"flood {i}")

        streamer = asyncio.create_task(flood())
        try:
            answer = await ctx.confirm("Proceed while streaming?")
        finally:
            streamer.cancel()
        return {"answer": answer}

    @registry.task("chatty_big", params=BigParams)
    async def chatty_big(ctx: TaskContext[BigParams]) -> dict[str, Any]:
        pad = "x" * ctx.params.size
        for i in range(ctx.params.count):
            await ctx.stream(f"{i} {pad}")
            if ctx.params.pause:
                await asyncio.sleep(ctx.params.pause)
        return {"lines": ctx.params.count}

    @registry.task("block", params=BlockParams)
    async def block(ctx: TaskContext[BlockParams]) -> None:
        await ctx.stream("blocking")
        try:
            await asyncio.sleep(ctx.params.seconds)
        finally:
            await asyncio.sleep(ctx.params.cleanup)  # a slow finally, like braking hardware
            await ctx.stream("cleanup ran")

    @registry.task("blocking_call", params=BlockParams)
    async def blocking_call(ctx: TaskContext[BlockParams]) -> dict[str, Any]:
        """Sleeps in a worker thread; the event loop must stay free meanwhile."""
        await ctx.stream("calling")
        took = await ctx.run_blocking(_sleep_and_time, ctx.params.seconds)
        return {"took": took}

    @registry.task("hold", params=HoldParams, resources=lambda p: p.resources)
    async def hold(ctx: TaskContext[HoldParams]) -> None:
        """Holds its resources until cancelled."""
        await asyncio.Event().wait()

    @registry.task("explode")
    async def explode(ctx: TaskContext[Any]) -> None:
        raise RuntimeError("boom")

    @registry.task("slow_timeout", params=BlockParams, timeout=0.2)
    async def slow_timeout(ctx: TaskContext[BlockParams]) -> None:
        await asyncio.sleep(ctx.params.seconds)

    @registry.task("maintenance", role=Role.ADMIN)
    async def maintenance(ctx: TaskContext[Any]) -> dict[str, Any]:
        """Reserved for admins (a calibration, say)."""
        return {"done": True}

    add_gated_tasks(registry)
    return registry


#: Events a ``gated_confirm`` task waits for before it asks, by gate name; set them on the
#: server's loop (``open_gate``) to open the prompt at a moment the test chooses. A task
#: removes its gate when done: use a fresh name per test (a uuid), never one of another loop.
GATES: dict[str, asyncio.Event] = {}


class GateParams(BaseModel):
    gate: str
    kind: str = "confirm"


class PacedParams(BaseModel):
    gate: str
    count: int = 100
    size: int = 1024
    burst: int = 8


def open_gate(server: LiveServer, name: str) -> None:
    """Set gate ``name`` on the server's loop (made there if no task made it yet)."""
    server.call(lambda: GATES.setdefault(name, asyncio.Event()).set())


def add_gated_tasks(registry: TaskRegistry) -> None:
    @registry.task("gated_confirm", params=GateParams)
    async def gated_confirm(ctx: TaskContext[GateParams]) -> dict[str, Any]:
        gate = GATES.setdefault(ctx.params.gate, asyncio.Event())
        await ctx.stream("waiting for the gate")
        try:
            await gate.wait()
        finally:
            GATES.pop(ctx.params.gate, None)  # an event is bound to this server's loop
        return {"answer": await ctx.confirm("Gated?", kind=ctx.params.kind)}

    @registry.task("paced_big", params=PacedParams)
    async def paced_big(ctx: TaskContext[PacedParams]) -> dict[str, Any]:
        """``count`` big lines, ``burst`` at a time, each burst when the test opens the gate:
        the test reads at its own pace, whatever the machine's load, and a tab that does not
        read falls behind by as much as the test likes."""
        gate = GATES.setdefault(ctx.params.gate, asyncio.Event())
        pad = "x" * ctx.params.size
        try:
            for start in range(0, ctx.params.count, ctx.params.burst):
                await gate.wait()
                gate.clear()
                for i in range(start, min(start + ctx.params.burst, ctx.params.count)):
                    await ctx.stream(f"{i} {pad}")
        finally:
            GATES.pop(ctx.params.gate, None)
        return {"lines": ctx.params.count}

    @registry.task("two_hazards")
    async def two_hazards(ctx: TaskContext[Any]) -> dict[str, Any]:
        first = await ctx.confirm("Scan x?", kind="hazard")
        second = await ctx.confirm("Move z to the signal peak?", kind="hazard")
        return {"first": first, "second": second}
