"""Two servers on one Redis prefix share users, tokens and sign-ins: what is made through
one works on the other, and a revocation on one closes the WebSockets open on the other."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.auth import Role
from interlock.auth.redis import RedisAuthStore
from tests.support.auth import People, bearer, login, seed
from tests.support.redis import URL, redis_prefix
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS
from tests.support.wsclose import closed_with


@dataclass
class Pair:
    a: LiveServer
    b: LiveServer
    people: People


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    """Two servers with authentication on one prefix, each with a data directory of its own
    (so nothing is shared through a file), the people seeded in Redis."""
    with redis_prefix() as prefix:
        people = asyncio.run(seed(tmp_path / "a", RedisAuthStore(URL, prefix=prefix)))
        shared: dict[str, Any] = {"auth": True, "redis_url": URL, "redis_prefix": prefix}
        with (
            run_server(tmp_path / "a", registry=make_registry(), **shared) as a,
            run_server(tmp_path / "b", registry=make_registry(), worker=False, **shared) as b,
        ):
            yield Pair(a, b, people)


async def test_a_token_made_on_one_server_works_on_the_other_until_revoked_there(
    pair: Pair,
) -> None:
    otto = pair.people.headers(Role.OPERATOR)
    async with (
        httpx.AsyncClient(base_url=pair.a.url, timeout=10) as a,
        httpx.AsyncClient(base_url=pair.b.url, timeout=10) as b,
    ):
        made = (await a.post("/auth/tokens", json={}, headers=otto)).json()
        token = bearer(made["token"])
        assert (await b.get("/auth/me", headers=token)).json()["user"] == "otto"
        r = await a.post("/tasks", json={"task_type": "confirm_once"}, headers=otto)
        assert r.status_code == 202, r.text
        tab = await WS.open(pair.b.ws_url, r.json()["task_id"], additional_headers=token)
        try:
            await tab.until("state_replay_complete")
            assert (await a.delete(f"/auth/tokens/{made['id']}", headers=otto)).status_code == 204
            assert await closed_with(tab, timeout=2.0) == 4401  # B polls every 0.3 s
        finally:
            await tab.close()
        assert (await b.get("/auth/me", headers=token)).status_code == 401


async def test_a_sign_in_on_one_server_is_valid_on_the_other_until_logged_out(
    pair: Pair,
) -> None:
    async with (
        httpx.AsyncClient(base_url=pair.a.url, timeout=10) as a,
        httpx.AsyncClient(base_url=pair.b.url, timeout=10) as b,
    ):
        signed_in = await login(a, "vera")
        assert signed_in.status_code == 200, signed_in.text
        cookie = {"Cookie": f"interlock_session={signed_in.cookies['interlock_session']}"}
        me = await b.get("/auth/me", headers=cookie)
        assert me.json() == {"user": "vera", "role": "viewer"}
        assert (await b.post("/auth/logout", headers=cookie)).status_code == 204
        assert (await a.get("/auth/me", headers=cookie)).status_code == 401
