"""Built-in demo tasks: PyAMA's dummies and the POC's interactive e-mail flow."""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, EmailStr, Field, create_model

from ..exceptions import TaskCancelled, TaskFailed
from ..runtime import TaskContext
from .registry import TaskRegistry


def _dummy_params(name: str, duration: float, steps: int) -> type[BaseModel]:
    """A parameter model whose defaults are this dummy's duration and steps."""
    return create_model(
        f"{name.title().replace('_', '')}Params",
        duration=(float, Field(duration, ge=0, le=86400, description="Total run time in seconds")),
        steps=(int, Field(steps, ge=1, le=100000, description="Number of progress steps")),
    )


async def run_dummy(ctx: TaskContext[Any]) -> dict[str, Any]:
    """Sleep through ``steps`` equal steps, reporting progress after each."""
    steps: int = ctx.params.steps
    pause = ctx.params.duration / steps
    for step in range(1, steps + 1):
        await asyncio.sleep(pause)
        await ctx.progress(step * 100 / steps, f"Processing step {step}/{steps}")
        await ctx.stream(f"Step {step}/{steps} completed")
    return {"message": "Task completed successfully", "steps": steps}


class Email(BaseModel):
    """The form ``interactive_demo`` asks for."""

    subject: str = Field(description="Subject of the email")
    body: str = Field(description="Body of the email")
    to_address: EmailStr = Field(description="Recipient email address")


class InteractiveParams(BaseModel):
    stream_count: int = Field(5, ge=0, le=10000, description="Messages streamed before the form")
    delay: float = Field(0.5, ge=0, le=60, description="Seconds between streamed messages")
    fail_attempts: int = Field(1, ge=0, description="How many sending attempts fail")
    max_attempts: int = Field(3, ge=1, le=100, description="Attempts before giving up")


async def interactive_demo(ctx: TaskContext[InteractiveParams]) -> dict[str, Any]:
    """The POC flow: stream, ask for an e-mail, retry failed sends, confirm, send."""
    params = ctx.params
    for i in range(1, params.stream_count + 1):
        await ctx.stream(f"Processing email step {i}/{params.stream_count}...")
        await ctx.progress(i * 40 / max(params.stream_count, 1), stage="preparing")
        if params.delay:
            await asyncio.sleep(params.delay)
    values = await ctx.ask(Email, prompt="Compose the e-mail")
    attempt = 0
    while True:
        attempt += 1
        await ctx.progress(50, f"Sending attempt {attempt}", stage="sending")
        if attempt > params.fail_attempts:
            break
        error = f"Simulated sending failure (attempt {attempt})"
        await ctx.attempt_failed(error, attempt, params.max_attempts)
        if attempt >= params.max_attempts:
            raise TaskFailed(error, can_retry=False, attempt=attempt)
        retry = await ctx.confirm(
            f"Attempt {attempt} failed: {error}. Retry?",
            kind="retry",
            details={"error": error, "attempt": attempt, "max_attempts": params.max_attempts},
        )
        if not retry:
            raise TaskFailed(error, can_retry=False, attempt=attempt)
    if not await ctx.confirm(
        f"Send e-mail to {values['to_address']}?", details={"subject": values["subject"]}
    ):
        raise TaskCancelled("declined")
    await ctx.progress(100, f"E-mail sent to {values['to_address']}", stage="done")
    return {"sent": True, "attempts": attempt}


def register(registry: TaskRegistry) -> None:
    for name, title, duration, steps in (
        ("dummy_short", "Dummy task (short)", 5.0, 5),
        ("dummy_long", "Dummy task (long)", 30.0, 10),
        ("dummy_very_long", "Dummy task (very long)", 120.0, 20),
    ):
        registry.task(
            name,
            params=_dummy_params(name, duration, steps),
            title=title,
            description=f"Runs ~{duration:g} s in {steps} steps (duration/steps override)",
        )(run_dummy)
    registry.task(
        "interactive_demo",
        params=InteractiveParams,
        title="Interactive e-mail demo",
        description="Streams, asks for an e-mail form, retries failed sends, confirms, sends",
    )(interactive_demo)
