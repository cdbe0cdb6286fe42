"""``interlock attach TASK_ID``: operate a task from a terminal.

The stream prints above a prompt line (prompt_toolkit's ``patch_stdout``); the bottom
toolbar is the progress bar. When the task asks, the prompt line asks: a confirmation as
yes/no (a ``hazard`` one with the console's warning, and No as its default, so Enter alone
never moves hardware), a form field by field, re-asking the fields the server rejects.
A prompt answered elsewhere, or one that times out, is dropped from the terminal. Idle, the
prompt takes ``cancel``, ``help`` and ``quit`` (detach; the task goes on).
Exit status: the task's (0 completed, 1 failed, 3 cancelled, 4 interrupted), 0 on detach.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import Any

from prompt_toolkit import PromptSession, print_formatted_text
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.validation import ValidationError, Validator
from rich.console import Console

from .. import protocol as p
from ..client import AnswerRefused, AsyncClient, Session, ValidationFailed
from ..client.events import RequestConfirmation, RequestUserInput
from .render import COMPLETED, HAZARD_BANNER, KIND_TITLE, describe, exit_code, parse_value

BAR_WIDTH = 30
YES = {"y", "yes"}
NO = {"n", "no"}


class _Changed:
    """The prompt was dropped: a request opened or closed, or the task ended."""


CHANGED = _Changed()


class Operator:
    """The state of one attached terminal and the prompt it shows."""

    def __init__(self, session: Session, seen_seq: int = 0, open_id: str | None = None) -> None:
        self.session = session
        # The replay re-sends requests answered long ago: ask only the open one and new ones.
        self.seen_seq = seen_seq
        self.open_id = open_id
        self.progress = 0.0
        self.note = ""
        self.status = "connecting"
        self.request: RequestConfirmation | RequestUserInput | None = None
        self.ended: p.SessionMessage | None = None
        self.version = 0  # bumped whenever what the prompt should ask changes
        self.prompt: PromptSession[Any] = PromptSession(
            bottom_toolbar=self.toolbar, refresh_interval=0.5
        )

    def toolbar(self) -> str:
        filled = round(self.progress * BAR_WIDTH / 100)
        bar = "█" * filled + "░" * (BAR_WIDTH - filled)
        task = self.session.task_id[:8]
        return f" {task}  {self.status:<11} {bar} {self.progress:3.0f}%  {self.note}"

    def changed(self) -> None:
        self.version += 1
        app = self.prompt.app
        if app.is_running and not app.future.done():  # type: ignore[union-attr]
            app.exit(result=CHANGED)

    async def ask(self, message: Any, **kw: Any) -> Any:
        """One prompt line; ``CHANGED`` when the situation changed under it."""
        version = self.version

        def drop_if_stale() -> None:
            if self.version != version:
                self.prompt.app.exit(result=CHANGED)

        # A PromptSession keeps each call's options for the next: state them all, always.
        options = {"default": "", "validator": None, **kw}
        return await self.prompt.prompt_async(message, pre_run=drop_if_stale, **options)

    # ------------------------------------------------------------------ events in

    async def read(self) -> None:
        async for event in self.session.events():
            self.show(event)
            if isinstance(event, p.Progress | p.Status) and self.prompt.app.is_running:
                self.prompt.app.invalidate()  # redraw the toolbar now, not at its next tick
            if isinstance(event, p.Progress):
                self.progress, self.note = event.progress, _note(event)
            elif isinstance(event, p.Status):
                self.status = event.status.value
            elif isinstance(event, RequestConfirmation | RequestUserInput):
                if event.seq > self.seen_seq or event.request_id == self.open_id:
                    self.request = event
                    self.changed()
            elif isinstance(event, p.RequestResolved):
                if self.request is not None and self.request.request_id == event.request_id:
                    self.request = None
                    self.changed()
            elif isinstance(event, p.TERMINAL_MODELS):
                self.ended = event
                if isinstance(event, p.TaskCompleted):
                    self.progress = 100
                self.changed()

    def show(self, event: p.SessionMessage) -> None:
        if isinstance(event, p.Progress | p.Status):
            return  # the toolbar shows them
        if isinstance(event, RequestConfirmation | RequestUserInput):
            return  # the prompt shows them
        style = "" if isinstance(event, p.Stream) else "fg:ansicyan"
        say(describe(event), style)

    # ---------------------------------------------------------------- prompts out

    async def run(self) -> int:
        reader = asyncio.create_task(self.read())
        try:
            while self.ended is None:
                if reader.done():
                    reader.result()  # raises what ended the stream
                request = self.request
                if request is None:
                    if not await self.idle():
                        say("detached; the task goes on", "fg:ansicyan")
                        return COMPLETED
                elif isinstance(request, RequestConfirmation):
                    await self.confirm(request)
                else:
                    await self.fill(request)
            return exit_code(self.ended)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader

    async def idle(self) -> bool:
        """The idle prompt; False to detach."""
        try:
            text = await self.ask("interlock> ")
        except EOFError:
            return False
        if text is CHANGED:
            return True
        command = text.strip().lower()
        if command in {"quit", "exit", "detach"}:
            return False
        if command == "cancel":
            sure = await self.ask("Cancel the task? [y/N] ")
            if sure is not CHANGED and sure.strip().lower() in YES:
                await self.session.cancel()
        elif command:
            say("commands: cancel, quit (detach; the task goes on)", "fg:ansicyan")
        return True

    async def confirm(self, request: RequestConfirmation) -> None:
        hazard = request.kind.value == "hazard"
        if hazard:
            say(HAZARD_BANNER, "bold fg:ansired")
        else:
            say(KIND_TITLE.get(request.kind.value, "Confirmation needed"), "bold")
        say(request.prompt, "bold")
        for key, value in (request.details or {}).items():
            say(f"  {key}: {value}")
        if request.timeout:
            default = "Yes" if request.default else "No"
            say(f"{request.timeout:g} s to answer — then the default answer “{default}” is used.")
        if request.respondents:
            say(f"Only {', '.join(request.respondents)} (and admins) may answer.")
        # The console focuses No on a hazard and Yes otherwise: Enter answers that.
        choices = "[y/N]" if hazard else "[Y/n]"
        text = await self.ask(f"Yes or No? {choices} ", validator=_yes_no)
        if text is CHANGED:
            return self.dropped(request)
        word = text.strip().lower()
        value = word in YES if word else not hazard
        await self.send(request, value)

    async def fill(self, request: RequestUserInput) -> None:
        say(request.prompt, "bold")
        properties = request.schema_.get("properties", {})
        values: dict[str, Any] = {}
        todo = list(request.fields)
        while todo:
            for field in todo:
                label = f"{field.name}" + (f" ({field.description})" if field.description else "")
                default = values.get(field.name, field.value)
                text = await self.ask(
                    f"{label}: ",
                    default="" if default is None else str(default),
                    validator=_required if field.required else None,
                )
                if text is CHANGED:
                    return self.dropped(request)
                if text != "" or field.required:
                    values[field.name] = parse_value(text, properties.get(field.name))
                else:
                    values.pop(field.name, None)
            try:
                await request.respond(values)
            except ValidationFailed as exc:
                for error in exc.errors:
                    say(f"  {error.field}: {error.message}", "fg:ansired")
                bad = {e.field for e in exc.errors}
                todo = [f for f in request.fields if f.name in bad] or list(request.fields)
                continue
            except AnswerRefused as exc:
                say(f"not taken: {exc.detail}", "fg:ansired")
            if self.request is request:  # the next one may be here already
                self.request = None
            return

    async def send(self, request: RequestConfirmation, value: bool) -> None:
        try:
            await request.respond(value)
        except AnswerRefused as exc:
            say(f"not taken: {exc.detail}", "fg:ansired")
        if self.request is request:
            self.request = None

    def dropped(self, request: RequestConfirmation | RequestUserInput) -> None:
        if self.request is not request and self.ended is None:
            say("(the prompt was answered elsewhere or timed out)", "fg:ansicyan")


def say(text: str, style: str = "") -> None:
    print_formatted_text(FormattedText([(style, text)]))


def _note(event: p.Progress) -> str:
    return " ".join(part for part in (event.stage, event.message) if part)


def _check_yes_no(text: str) -> bool:
    return text.strip().lower() in YES | NO | {""}


_yes_no = Validator.from_callable(_check_yes_no, error_message="answer y(es) or n(o)")


class _Required(Validator):
    def validate(self, document: Any) -> None:
        if not document.text.strip():
            raise ValidationError(message="required")


_required = _Required()


async def attach(client: AsyncClient, args: argparse.Namespace, console: Console) -> int:
    task = await client.get(args.task_id)  # NotFound / AuthenticationFailed before the screen
    pending = task.pending_request
    operator = Operator(
        client.session(args.task_id),
        seen_seq=task.last_seq,
        open_id=pending.request_id if pending is not None else None,
    )
    with patch_stdout(raw=True):
        return await operator.run()
