"""The client commands of ``interlock``: ``tasks list|show|start|cancel``, ``answer``,
``watch``, ``logs`` and ``attach`` (the terminal operator client).

Exit statuses: 0 completed, 1 failed (or an error), 2 usage, 3 cancelled, 4 interrupted.
``--url`` / ``INTERLOCK_URL`` (default ``http://127.0.0.1:8000``) and ``--token`` /
``INTERLOCK_TOKEN`` say which server and who is asking.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from . import commands
from .render import USAGE

DEFAULT_URL = "http://127.0.0.1:8000"
STATUSES = ["pending", "queued", "running", "waiting", "completed", "failed", "cancelled"]
STATUSES.append("interrupted")


def _connection_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url",
        default=argparse.SUPPRESS,
        help=f"the server (default: $INTERLOCK_URL, else {DEFAULT_URL})",
    )
    common.add_argument(
        "--token",
        default=argparse.SUPPRESS,
        help="an API token, sent as Authorization: Bearer (default: $INTERLOCK_TOKEN)",
    )
    return common


def add_client_commands(sub: Any) -> None:
    """Add the client commands to ``interlock``'s subparsers (``sub``)."""
    common = _connection_options()

    def command(parent: Any, name: str, run: Any, **kw: Any) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = parent.add_parser(name, parents=[common], **kw)
        parser.set_defaults(client_command=run)
        return parser

    tasks = sub.add_parser("tasks", help="list, show, start and cancel tasks")
    verbs = tasks.add_subparsers(dest="tasks_command", required=True)
    listing = command(verbs, "list", commands.tasks_list, help="tasks, newest first")
    listing.add_argument("--status", choices=STATUSES, help="only tasks in this state")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = command(verbs, "show", commands.tasks_show, help="one task and its open prompt")
    show.add_argument("task_id", metavar="TASK_ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    start = command(verbs, "start", commands.tasks_start, help="start a task; prints its id")
    start.add_argument("task_type", metavar="TASK_TYPE")
    start.add_argument(
        "param",
        nargs="*",
        metavar="NAME=VALUE",
        help="parameters; VALUE is JSON when it parses (3, true, [1,2]), else text",
    )
    start.add_argument("--queue", action="store_true", help="wait for a free slot (no 409)")
    start.add_argument("--watch", action="store_true", help="then watch it; exit with its status")
    cancel = command(verbs, "cancel", commands.tasks_cancel, help="cancel a task")
    cancel.add_argument("task_id", metavar="TASK_ID")

    answer = command(sub, "answer", commands.answer, help="answer a task's open prompt")
    answer.add_argument("task_id", metavar="TASK_ID")
    choice = answer.add_mutually_exclusive_group()
    choice.add_argument("--yes", dest="value", action="store_const", const=True)
    choice.add_argument("--no", dest="value", action="store_const", const=False)
    answer.add_argument(
        "--field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a form field (repeat for each); text fields take VALUE as it is",
    )
    answer.add_argument("--request-id", help="answer only if this is the open request")

    watch = command(sub, "watch", commands.watch, help="stream a task with a progress bar")
    watch.add_argument("task_id", metavar="TASK_ID")
    logs = command(sub, "logs", commands.logs, help="a task's whole log")
    logs.add_argument("task_id", metavar="TASK_ID")
    logs.add_argument("--follow", "-f", action="store_true", help="then the live messages")
    logs.add_argument("--json", action="store_true", help="the messages as JSON lines")

    from .attach import attach as run_attach

    attach = command(
        sub,
        "attach",
        run_attach,
        help="operate a task at the terminal: its stream, progress and prompts",
    )
    attach.add_argument("task_id", metavar="TASK_ID")


def run_client_command(args: argparse.Namespace) -> int:
    """Run the command ``args`` names (set up by ``add_client_commands``)."""
    args.url = getattr(args, "url", None) or os.environ.get("INTERLOCK_URL") or DEFAULT_URL
    args.token = getattr(args, "token", None) or os.environ.get("INTERLOCK_TOKEN") or None
    if not args.url.startswith(("http://", "https://")):
        sys.stderr.write(f"interlock: --url must start with http:// or https://: {args.url!r}\n")
        return USAGE
    return commands.run(args.client_command, args)
