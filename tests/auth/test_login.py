"""Signing in to the console: the session cookie, signing out, and guessing slowed down."""

from __future__ import annotations

import logging

import httpx
import pytest

from interlock.auth import Role
from interlock.auth.accounts import Accounts
from interlock.auth.verifier import COOKIE
from tests.support.auth import NAMES, PASSWORD, People, login, with_store
from tests.support.server import LiveServer
from tests.support.ws import WS
from tests.support.wsclose import closed_with


def set_cookie(response: httpx.Response) -> dict[str, str]:
    """The session cookie's attributes, lower-cased names (``value`` is the cookie)."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(COOKIE)]
    first, *attributes = [part.strip() for part in header.split(";")]
    out = {"value": first.split("=", 1)[1]}
    for attribute in attributes:
        name, _, value = attribute.partition("=")
        out[name.lower()] = value or "true"
    return out


async def test_login_sets_an_httponly_strict_cookie_that_authenticates(
    anon: httpx.AsyncClient,
) -> None:
    r = await login(anon, "otto")
    assert r.status_code == 200, r.text
    assert r.json() == {"user": "otto", "role": "operator"}
    cookie = set_cookie(r)
    assert cookie["httponly"] == "true"
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/"
    assert int(cookie["max-age"]) == 12 * 3600  # INTERLOCK_LOGIN_HOURS
    assert "secure" not in cookie  # plain http: a Secure cookie would never come back
    me = await anon.get("/auth/me")  # the client's jar sends the cookie
    assert me.json() == {"user": "otto", "role": "operator"}


@pytest.mark.parametrize(
    "headers",
    [{"X-Forwarded-Proto": "https"}, {"Forwarded": "for=10.0.0.1;proto=https;host=lab"}],
)
async def test_the_cookie_is_secure_when_a_proxy_says_the_browser_used_https(
    anon: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    r = await anon.post(
        "/auth/login", json={"username": "vera", "password": PASSWORD}, headers=headers
    )
    assert set_cookie(r)["secure"] == "true"


async def test_a_wrong_password_or_unknown_name_gets_the_same_401(
    anon: httpx.AsyncClient,
) -> None:
    wrong = await login(anon, "otto", "guess")
    nobody = await login(anon, "nobody", "guess")
    for r in (wrong, nobody):
        assert r.status_code == 401
        assert r.json() == {"detail": "Invalid username or password"}
        assert COOKIE not in r.headers.get("set-cookie", "")


async def test_logout_clears_the_cookie_ends_the_session_and_closes_its_websockets(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    secret = set_cookie(await login(anon, "vera"))["value"]
    operator = people.headers(Role.OPERATOR)
    sid = (await anon.post("/tasks", json={"task_type": "confirm_once"}, headers=operator)).json()[
        "task_id"
    ]
    cookie = {"Cookie": f"{COOKIE}={secret}"}
    async with await WS.open(auth_server.ws_url, sid, additional_headers=cookie) as tab:
        await tab.until("state_replay_complete")
        r = await anon.post("/auth/logout")
        assert r.status_code == 204
        assert set_cookie(r)["max-age"] == "0"
        assert await closed_with(tab) == 4401
    async with httpx.AsyncClient(base_url=auth_server.url) as fresh:
        again = await fresh.get("/auth/me", headers=cookie)
    assert again.status_code == 401
    await anon.delete(f"/tasks/{sid}", headers=operator)


async def test_five_failures_for_a_name_block_it_with_429_and_each_is_logged(
    anon: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="interlock.auth")
    for _ in range(5):
        assert (await login(anon, "otto", "wrong password 123")).status_code == 401
    blocked = await login(anon, "otto")  # even the right password: it would tell
    assert blocked.status_code == 429
    assert 0 < int(blocked.headers["Retry-After"]) <= 300
    assert (await login(anon, "vera")).status_code == 200  # other names are not blocked
    failures = [r for r in caplog.records if r.getMessage().startswith("failed login")]
    assert len(failures) == 5
    assert all("'otto'" in r.getMessage() and "127.0.0.1" in r.getMessage() for r in failures)
    assert not any("wrong password" in r.getMessage() for r in caplog.records)


async def test_a_user_without_a_password_cannot_sign_in(
    people: People, anon: httpx.AsyncClient
) -> None:
    store = await with_store(people.data_dir)
    try:
        await Accounts(store).add_user("robot", Role.OPERATOR)  # tokens only
    finally:
        await store.close()
    assert (await login(anon, "robot", "anything")).status_code == 401
    users = (await anon.get("/auth/users", headers=people.headers(Role.ADMIN))).json()
    assert [(u["user"], u["role"], u["has_password"]) for u in users] == sorted(
        [(name, role.value, True) for role, name in NAMES.items()] + [("robot", "operator", False)]
    )
    assert (await login(anon, "ada", "")).status_code == 422  # an empty password is none
