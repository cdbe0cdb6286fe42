"""``interlock tasks|answer|watch|logs``: the server's REST and WebSocket API at the shell.

Each command is a coroutine ``(client, args, console) -> exit status``; ``run`` makes the
client from ``--url`` / ``--token`` (or ``INTERLOCK_URL`` / ``INTERLOCK_TOKEN``) and turns
client errors into a message and a status: 2 for what the caller got wrong (bad
parameters, a malformed ``k=v``), 1 for the rest.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table

from .. import protocol as p
from ..api.views import TaskView
from ..client import AsyncClient, ClientError, ValidationFailed
from .render import (
    COMPLETED,
    FAILED,
    USAGE,
    describe,
    exit_code,
    parse_pairs,
)

Command = Callable[[AsyncClient, argparse.Namespace, Console], Awaitable[int]]


class Usage(Exception):
    """Raised by a command when its arguments cannot be used (exit status 2)."""


def run(command: Command, args: argparse.Namespace) -> int:
    console = Console(highlight=False, soft_wrap=True)
    errors = Console(stderr=True, highlight=False, soft_wrap=True)

    async def main() -> int:
        async with AsyncClient(args.url, args.token) as client:
            return await command(client, args, console)

    try:
        return asyncio.run(main())
    except Usage as exc:
        errors.print(f"interlock: {escape(str(exc))}")
        return USAGE
    except ValidationFailed as exc:
        errors.print(f"interlock: {escape(exc.detail)}")
        for error in exc.errors:
            errors.print(f"  {escape(error.field)}: {escape(error.message)}")
        return USAGE
    except ClientError as exc:
        errors.print(f"interlock: {escape(str(exc))}")
        return FAILED
    except KeyboardInterrupt:
        return 130


# ------------------------------------------------------------------------------ tasks


async def tasks_list(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    found = await client.tasks(status=args.status, limit=args.limit)
    if args.json:
        console.print_json(json.dumps([t.model_dump(mode="json") for t in found]))
        return COMPLETED
    table = Table(box=None)
    for name in ("task", "type", "status", "progress", "created"):
        table.add_column(name, no_wrap=True)
    table.add_column("waiting for")
    for task in found:
        pending = task.pending_request.prompt if task.pending_request else ""
        table.add_row(
            task.task_id,
            task.task_type,
            task.status.value,
            f"{task.progress:.0f}%",
            (task.created_at or "")[:19],
            escape(pending),
        )
    console.print(table)
    return COMPLETED


async def tasks_show(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    task = await client.get(args.task_id)
    if args.json:
        console.print_json(task.model_dump_json())
        return COMPLETED
    show_task(task, console)
    return COMPLETED


def show_task(task: TaskView, console: Console) -> None:
    rows: list[tuple[str, Any]] = [
        ("task", task.task_id),
        ("type", f"{task.task_type} ({task.task_title})"),
        ("status", task.status.value),
        ("progress", f"{task.progress:.0f}%" + (f" {task.message}" if task.message else "")),
        ("parameters", json.dumps(task.parameters)),
        ("created", task.created_at),
        ("started", task.started_at),
        ("completed", task.completed_at),
        ("created by", task.created_by),
        ("result", json.dumps(task.result) if task.result is not None else None),
        ("error", task.error),
        ("last seq", task.last_seq),
    ]
    for name, value in rows:
        if value is not None:
            console.print(f"{name:>11}: {escape(str(value))}")
    if task.pending_request is not None:
        console.print(f"{'waiting for':>11}: {escape(describe(task.pending_request))}")


async def tasks_start(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    params = parse_pairs(args.param)
    if isinstance(params, str):
        raise Usage(params)
    session = await client.create(args.task_type, params, queue=args.queue)
    if not args.watch:
        console.print(session.task_id)
        return COMPLETED
    console.print(f"started {session.task_id}")
    return await follow(client, session.task_id, 0, console)


async def tasks_cancel(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    cancelled = await client.cancel(args.task_id)
    console.print(f"{cancelled.task_id}: {escape(cancelled.message)}")
    return COMPLETED


# ----------------------------------------------------------------------------- answer


async def answer(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    task = await client.get(args.task_id)
    pending = task.pending_request
    if pending is None:
        console.print(f"task {task.task_id} has no open request (it is {task.status.value})")
        return FAILED
    if args.request_id and args.request_id != pending.request_id:
        console.print(
            f"request {args.request_id} is not open (the open one is {pending.request_id})"
        )
        return FAILED
    if isinstance(pending, p.RequestConfirmation):
        if args.value is None or args.field:
            raise Usage(f"{pending.prompt!r} is a confirmation: answer it with --yes or --no")
        await client.answer(task.task_id, pending.request_id, value=args.value)
        console.print(f"answered {'Yes' if args.value else 'No'}: {escape(pending.prompt)}")
        return COMPLETED
    if args.value is not None or not args.field:
        names = ", ".join(f.name for f in pending.fields)
        raise Usage(f"{pending.prompt!r} is a form: answer it with --field NAME=VALUE ({names})")
    values = parse_pairs(args.field, pending.schema_.get("properties", {}))
    if isinstance(values, str):
        raise Usage(values)
    await client.answer(task.task_id, pending.request_id, values=values)
    console.print(f"submitted: {escape(pending.prompt)}")
    return COMPLETED


# ------------------------------------------------------------------------- watch, logs


async def watch(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    return await follow(client, args.task_id, 0, console)


async def follow(client: AsyncClient, task_id: str, since: int, console: Console) -> int:
    """Print the stream with a live progress bar until the task ends; its exit status."""
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[note]}"),
        console=console,
    )
    bar = progress.add_task(task_id[:8], total=100, note="")
    events = client.session(task_id).events(since=since)
    async with aclosing(events):
        with progress:
            async for event in events:
                if isinstance(event, p.Progress):
                    note = " ".join(part for part in (event.stage, event.message) if part)
                    progress.update(bar, completed=event.progress, note=note)
                    continue
                if isinstance(event, p.RequestConfirmation | p.RequestUserInput):
                    console.print(escape(describe(event)))
                    console.print(f"  answer with: interlock answer {task_id} {_how(event)}")
                    continue
                console.print(escape(describe(event)))
                if isinstance(event, p.TaskCompleted):
                    progress.update(bar, completed=100)
                if isinstance(event, p.TERMINAL_MODELS):
                    return exit_code(event)
    return FAILED  # not reached: events() ends with the terminal message


def _how(event: p.RequestConfirmation | p.RequestUserInput) -> str:
    if isinstance(event, p.RequestConfirmation):
        return "--yes | --no"
    return " ".join(f"--field {f.name}=…" for f in event.fields)


async def logs(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    status = COMPLETED
    async for event in client.log(args.task_id, follow=args.follow):
        if args.json:
            console.print(event.model_dump_json(by_alias=True), markup=False)
        else:
            for i, line in enumerate(describe(event).splitlines() or [""]):
                console.print(f"{event.seq if i == 0 else '':>6}  {escape(line)}")
        if isinstance(event, p.TERMINAL_MODELS) and args.follow:
            status = exit_code(event)
    return status
