"""Command line: run the server, and manage its users and API tokens.

``interlock serve [--host H] [--port P] [--data-dir DIR] [--no-worker] [...]`` and, with
Redis, ``interlock worker [--controller NAME] [--task-types a,b] [...]``; ``interlock users …`` and
``interlock tokens …`` manage who may use it; ``interlock tasks|answer|watch|logs|attach``
are the client commands (``interlock.terminal``).

Every setting is a flag of ``serve`` (``interlock serve --help`` lists them); see
``interlock.flags`` for how they are generated from ``Settings``, and ``interlock.admin``
for the users and tokens commands.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from .admin import add_admin_commands
from .admin import run as run_admin
from .controller_cli import add_controller_commands
from .flags import add_settings_flags, settings_from
from .server import serve
from .terminal import add_client_commands, run_client_command


def build_parser() -> argparse.ArgumentParser:
    """The ``interlock`` parser; ``serve``'s namespace carries its own parser as ``parser``."""
    parser = argparse.ArgumentParser(prog="interlock", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    serve_parser = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the server. Flags override INTERLOCK_* variables, which override "
        "the defaults.",
    )
    add_settings_flags(serve_parser)
    # A bad setting is a usage error of `serve`: keep its parser for settings_from.
    serve_parser.set_defaults(parser=serve_parser)
    worker_parser = sub.add_parser(
        "worker",
        help="run tasks only, from the shared queue in Redis (INTERLOCK_REDIS_URL)",
        description="Run tasks from the queue every instance of the deployment shares in "
        "Redis, next to the hardware: --controller NAME is the controller this worker owns "
        "(none: it runs only tasks that move nothing), --task-types a,b the task types it "
        "runs. It serves /health and /metrics only, on --port (default: any free port). "
        "Takes every setting of serve.",
    )
    add_settings_flags(worker_parser)
    worker_parser.set_defaults(parser=worker_parser)
    add_admin_commands(sub)
    add_controller_commands(sub)
    add_client_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        settings = settings_from(args, args.parser)
        if not settings.worker and not settings.redis_url:
            args.parser.error(
                "--no-worker needs Redis (INTERLOCK_REDIS_URL): nothing else would run the tasks"
            )
        serve(settings)
    elif args.command == "worker":
        settings = settings_from(args, args.parser)
        if not settings.redis_url:
            args.parser.error("a worker takes its tasks from Redis: set INTERLOCK_REDIS_URL")
        if "port" not in vars(args) and "INTERLOCK_PORT" not in os.environ:
            settings = settings.model_copy(update={"port": 0})  # any free one
        serve(settings.model_copy(update={"worker": True}), api=False)
    elif getattr(args, "handler", None) is not None:
        raise SystemExit(args.handler(args))
    elif getattr(args, "client_command", None) is not None:
        raise SystemExit(run_client_command(args))
    else:
        raise SystemExit(run_admin(args))


if __name__ == "__main__":
    main()
