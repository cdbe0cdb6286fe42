"""Command line: ``interlock serve [--host H] [--port P] [--data-dir DIR]``."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvicorn

from .settings import Settings
from .wire import CoalescingWebSocketProtocol


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


def serve(settings: Settings) -> None:
    from .app import create_app

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws_max_size=settings.ws_max_message_bytes,
        ws=CoalescingWebSocketProtocol,
        timeout_graceful_shutdown=10,
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(settings_from(args))


if __name__ == "__main__":
    main()
