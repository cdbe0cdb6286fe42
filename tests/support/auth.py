"""People for tests with ``INTERLOCK_AUTH=true``: one user per role, each with a password
and an API token, written to a data directory's real auth store."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from interlock.auth import Role
from interlock.auth.accounts import Accounts
from interlock.auth.sqlite import SQLiteAuthStore
from interlock.auth.store import AuthStore

PASSWORD = "correct horse battery staple"
NAMES = {Role.VIEWER: "vera", Role.OPERATOR: "otto", Role.ADMIN: "ada"}


@dataclass
class People:
    """Who was seeded: ``tokens[role]`` is the API token of ``NAMES[role]``."""

    data_dir: Path
    tokens: dict[Role, str] = field(default_factory=dict)
    token_ids: dict[Role, str] = field(default_factory=dict)

    def headers(self, role: Role | None) -> dict[str, str]:
        """The ``Authorization`` header of ``role``'s user; none for None (anonymous)."""
        return {} if role is None else bearer(self.tokens[role])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def seed(data_dir: Path, store: AuthStore | None = None) -> People:
    """Add vera (viewer), otto (operator) and ada (admin), each with ``PASSWORD`` and a
    token, through the store a running server would share (``data_dir``'s, or ``store``)."""
    store = store or SQLiteAuthStore.in_dir(data_dir)
    await store.open()
    try:
        accounts = Accounts(store)
        people = People(data_dir)
        for role, name in NAMES.items():
            await accounts.add_user(name, role, PASSWORD)
            record, secret = await accounts.create_token(name)
            people.tokens[role] = secret
            people.token_ids[role] = record.id
        return people
    finally:
        await store.close()


async def enroll(data_dir: Path, name: str, role: Role) -> dict[str, str]:
    """Add one more user (with a token) to ``data_dir``'s store, also while its server runs;
    returns the ``Authorization`` header of the token."""
    store = await with_store(data_dir)
    try:
        accounts = Accounts(store)
        await accounts.add_user(name, role, PASSWORD)
        _, secret = await accounts.create_token(name)
        return bearer(secret)
    finally:
        await store.close()


async def with_store(data_dir: Path) -> SQLiteAuthStore:
    """An open store on ``data_dir`` (close it): another process's view, in this one."""
    store = SQLiteAuthStore.in_dir(data_dir)
    await store.open()
    return store


async def login(client: httpx.AsyncClient, name: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/auth/login", json={"username": name, "password": password})


def authenticate_operator(data_dir: Path) -> dict[str, str]:
    """Seed ``data_dir``'s real auth store (before its server starts) with one person per
    role; returns the headers that prove the operator."""
    people = asyncio.run(seed(data_dir))
    return people.headers(Role.OPERATOR)
