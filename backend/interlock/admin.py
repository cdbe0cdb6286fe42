"""``interlock users …`` and ``interlock tokens …``: managing who may use a server.

They work on the server's auth store, also while servers run on it: Redis when
``--redis-url`` (else ``INTERLOCK_REDIS_URL``) names one, under ``--redis-prefix`` (else
``INTERLOCK_REDIS_PREFIX``), else the data directory's (``--data-dir``, else
``INTERLOCK_DATA_DIR``, else ``./data``). They never take the directory's lock, and the
servers see their changes (a revocation closes the token's WebSockets within about a
second). Exit status: 0 done, 1 failed (unknown user or token, a
name taken, an empty password, the store unusable), 2 usage (a bad role, name or number).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import datetime
from pathlib import Path
from typing import Any

from .auth import Role
from .auth.accounts import Accounts
from .auth.backends import auth_store
from .auth.store import utcnow
from .exceptions import AuthError, InvalidName, StoreError
from .flags import default_text, env_name
from .settings import Settings

DESCRIPTION = (
    "Works on the auth store of the data directory, or of Redis with --redis-url, also while "
    "servers run on it (they see the change: a revoked token's WebSockets close within about "
    "a second). "
    "Exit status: 0 done, 1 failed (unknown user or token, name taken, empty password), "
    "2 usage."
)

Command = Callable[[Accounts, argparse.Namespace], Coroutine[Any, Any, None]]


def _say(text: str) -> None:
    """A line for the person at the terminal (stderr: stdout is for what scripts read)."""
    print(text, file=sys.stderr)  # noqa: T201 - a command's output


def _out(text: str) -> None:
    print(text)  # noqa: T201 - a command's output


def _when(value: datetime | None, none: str = "never") -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value is not None else none


def _table(rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        _out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _password(name: str) -> str:
    if sys.stdin.isatty():
        return getpass.getpass(f"Password for {name}: ")
    return sys.stdin.readline().removesuffix("\n").removesuffix("\r")


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < days <= 3650:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 3650, got {text}")
    return days


# ------------------------------------------------------------------------------ commands


async def users_add(accounts: Accounts, args: argparse.Namespace) -> None:
    password = _password(args.name) if args.password_stdin else None
    user = await accounts.add_user(args.name, Role(args.role), password)
    how = "password" if password is not None else "tokens only: no password"
    _say(f"added user {user.name} ({user.role.value}; {how})")


async def users_list(accounts: Accounts, _args: argparse.Namespace) -> None:
    users = await accounts.store.list_users()
    rows = [["NAME", "ROLE", "PASSWORD", "CREATED (UTC)"]]
    for u in users:
        rows.append([u.name, u.role.value, "yes" if u.password_hash else "no", _when(u.created_at)])
    _table(rows)


async def users_set_role(accounts: Accounts, args: argparse.Namespace) -> None:
    user = await accounts.store.set_role(args.name, Role(args.role))
    _say(f"{user.name} is now {user.role.value}")


async def users_set_password(accounts: Accounts, args: argparse.Namespace) -> None:
    await accounts.set_password(args.name, _password(args.name))
    _say(f"password of {args.name} changed; their console sign-ins were ended")


async def users_remove(accounts: Accounts, args: argparse.Namespace) -> None:
    await accounts.store.remove_user(args.name)
    _say(f"removed user {args.name} and every token and sign-in of theirs")


async def tokens_create(accounts: Accounts, args: argparse.Namespace) -> None:
    record, secret = await accounts.create_token(args.user, args.expires_days)
    _out(secret)
    _say(
        f"token {record.id} of {record.user}, expires {_when(record.expires_at)} (UTC). "
        "It is shown only this once: store it now."
    )


async def tokens_list(accounts: Accounts, args: argparse.Namespace) -> None:
    records = await accounts.tokens(args.user)
    now = utcnow()
    rows = [["ID", "USER", "CREATED (UTC)", "EXPIRES", "LAST USED", "STATE"]]
    for r in records:
        used = _when(r.last_used_at, "-")
        rows.append([r.id, r.user, _when(r.created_at), _when(r.expires_at), used, r.state(now)])
    _table(rows)


async def tokens_revoke(accounts: Accounts, args: argparse.Namespace) -> None:
    if await accounts.revoke_token(args.id):
        _say(f"revoked token {args.id}")
    else:
        _say(f"token {args.id} was already revoked")


# -------------------------------------------------------------------------------- parser


def _command(
    sub: Any, name: str, run: Command, help_text: str, parent: argparse.ArgumentParser
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name,
        help=help_text,
        description=f"{help_text[0].upper()}{help_text[1:]}. {DESCRIPTION}",
        parents=[parent],
    )
    parser.set_defaults(run=run, parser=parser)
    return parser


def add_admin_commands(sub: Any) -> None:
    """Add ``users`` and ``tokens`` (with their subcommands) to the ``interlock`` parser."""
    default = default_text(Settings.model_fields["data_dir"])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--data-dir",
        type=Path,
        metavar="PATH",
        help=f"the server's data directory ({env_name('data_dir')}; default: {default})",
    )
    common.add_argument(
        "--redis-url",
        metavar="URL",
        help=f"the servers' Redis: its users and tokens, not the data directory's "
        f"({env_name('redis_url')})",
    )
    prefix = default_text(Settings.model_fields["redis_prefix"])
    common.add_argument(
        "--redis-prefix",
        metavar="PREFIX",
        help=f"their key prefix in Redis ({env_name('redis_prefix')}; default: {prefix})",
    )
    roles = [role.value for role in Role]

    users = sub.add_parser("users", help="manage users and roles", description=DESCRIPTION)
    verbs = users.add_subparsers(dest="verb", required=True, metavar="VERB")
    add = _command(verbs, "add", users_add, "add a user", common)
    add.add_argument("name", help="the user's name (case-sensitive)")
    add.add_argument("--role", required=True, choices=roles)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read a password (for the console's sign-in) from stdin; without it the user "
        "authenticates with tokens only",
    )
    _command(verbs, "list", users_list, "list users and their roles", common)
    set_role = _command(verbs, "set-role", users_set_role, "change a user's role", common)
    set_role.add_argument("name")
    set_role.add_argument("role", choices=roles)
    password = _command(
        verbs, "set-password", users_set_password, "set a password, read from stdin", common
    )
    password.add_argument("name")
    remove = _command(verbs, "remove", users_remove, "remove a user and their tokens", common)
    remove.add_argument("name")

    tokens = sub.add_parser("tokens", help="manage API tokens", description=DESCRIPTION)
    verbs = tokens.add_subparsers(dest="verb", required=True, metavar="VERB")
    create = _command(verbs, "create", tokens_create, "create a token (printed once)", common)
    create.add_argument("--user", required=True)
    create.add_argument("--expires-days", type=_days, metavar="N", help="default: never")
    listing = _command(verbs, "list", tokens_list, "list tokens (never the secrets)", common)
    listing.add_argument("--user", help="only this user's")
    revoke = _command(verbs, "revoke", tokens_revoke, "revoke a token", common)
    revoke.add_argument("id", help="the token's id, as tokens list shows it")


def data_dir(args: argparse.Namespace) -> Path:
    """``--data-dir``, else ``INTERLOCK_DATA_DIR``, else the default."""
    if args.data_dir is not None:
        return Path(args.data_dir)
    env = os.environ.get(env_name("data_dir"))
    default: Path = Settings.model_fields["data_dir"].get_default()
    return Path(env) if env else default


def _given(args: argparse.Namespace, field: str) -> str | None:
    """The flag of ``field``, else its environment variable, else None."""
    value: str | None = getattr(args, field)
    return value if value is not None else os.environ.get(env_name(field))


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``users``/``tokens`` command; returns the exit status."""
    parser: argparse.ArgumentParser = args.parser
    prefix = _given(args, "redis_prefix") or Settings.model_fields["redis_prefix"].get_default()
    store = auth_store(
        data_dir(args), redis_url=_given(args, "redis_url"), redis_prefix=prefix, timeout=5.0
    )

    async def main() -> None:
        await store.open()
        try:
            await args.run(Accounts(store), args)
        finally:
            await store.close()

    try:
        asyncio.run(main())
    except InvalidName as exc:
        parser.error(str(exc))
    except (AuthError, StoreError) as exc:
        _say(f"{parser.prog}: error: {exc}")
        return 1
    return 0
