"""Command line: ``interlock serve [--host H] [--port P] [--data-dir DIR] [...]``.

Every setting is a flag of ``serve`` (``interlock serve --help`` lists them); see
``interlock.flags`` for how they are generated from ``Settings``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from .flags import add_settings_flags, settings_from
from .server import serve


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
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        serve(settings_from(args, args.parser))


if __name__ == "__main__":
    main()
