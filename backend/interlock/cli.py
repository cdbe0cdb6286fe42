"""Command line: ``interlock serve [--host H] [--port P] [--data-dir DIR]``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .server import serve
from .settings import Settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="interlock", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host", help="bind address (INTERLOCK_HOST, default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (INTERLOCK_PORT, default 8000)")
    serve.add_argument("--data-dir", type=Path, help="data directory (INTERLOCK_DATA_DIR)")
    serve.add_argument("--max-concurrent", type=int, help="INTERLOCK_MAX_CONCURRENT")
    serve.add_argument("--controller", help="controller name (INTERLOCK_CONTROLLER)")
    serve.add_argument("--log-level", help="INTERLOCK_LOG_LEVEL")
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {
        key: value for key, value in vars(args).items() if key != "command" and value is not None
    }
    return Settings(**overrides)


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(settings_from(args))


if __name__ == "__main__":
    main()
