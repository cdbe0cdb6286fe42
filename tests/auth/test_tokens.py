"""API tokens over REST and the CLI; revoked, expired and removed credentials stop working
at once, and their open WebSockets are closed with 4401; no secret is kept in the clear."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.auth import Role
from interlock.auth.credentials import digest, new_token
from interlock.auth.store import CredentialKind, utcnow
from interlock.auth.verifier import POLL_INTERVAL
from tests.support.auth import PASSWORD, People, bearer, login, seed, with_store
from tests.support.faults import locked_database
from tests.support.rawws import StalledTab
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS
from tests.support.wsclose import closed_with, prompted

VIEWER, OPERATOR = Role.VIEWER, Role.OPERATOR


async def cli(data_dir: Path, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    """``python -m interlock <argv> --data-dir <data_dir>`` in a process of its own."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "interlock", *argv, "--data-dir", str(data_dir),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin.encode()), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def start_task(anon: httpx.AsyncClient, people: People) -> str:
    r = await anon.post(
        "/tasks", json={"task_type": "confirm_once"}, headers=people.headers(Role.OPERATOR)
    )
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def watching(server: LiveServer, sid: str, headers: dict[str, str]) -> WS:
    tab = await WS.open(server.ws_url, sid, additional_headers=headers)
    await tab.until("state_replay_complete")
    return tab


async def test_a_user_creates_lists_uses_and_revokes_their_own_tokens(
    people: People, anon: httpx.AsyncClient
) -> None:
    otto = people.headers(Role.OPERATOR)
    r = await anon.post("/auth/tokens", json={"expires_days": 1}, headers=otto)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["token"].startswith("ilt_") and len(made["token"]) >= 4 + 43
    assert made["user"] == "otto"
    me = await anon.get("/auth/me", headers=bearer(made["token"]))
    assert me.json() == {"user": "otto", "role": "operator"}
    listed = (await anon.get("/auth/tokens", headers=otto)).json()
    assert [t["id"] for t in listed] == [people.token_ids[Role.OPERATOR], made["id"]]
    assert all(set(t) == {"id", "created_at", "expires_at", "last_used_at"} for t in listed)
    assert made["token"] not in str(listed)
    assert listed[1]["last_used_at"] is not None  # it was just used
    assert (await anon.delete(f"/auth/tokens/{made['id']}", headers=otto)).status_code == 204
    assert (await anon.get("/auth/me", headers=bearer(made["token"]))).status_code == 401
    after = (await anon.get("/auth/tokens", headers=otto)).json()
    assert [t["id"] for t in after] == [people.token_ids[Role.OPERATOR]]
    assert (await anon.delete(f"/auth/tokens/{made['id']}", headers=otto)).status_code == 404


async def test_only_admins_revoke_other_peoples_tokens(
    people: People, anon: httpx.AsyncClient
) -> None:
    otto_token = people.token_ids[Role.OPERATOR]
    vera = people.headers(Role.VIEWER)
    assert (await anon.delete(f"/auth/tokens/{otto_token}", headers=vera)).status_code == 404
    assert (await anon.get("/auth/me", headers=people.headers(Role.OPERATOR))).status_code == 200
    ada = people.headers(Role.ADMIN)
    assert (await anon.delete(f"/auth/tokens/{otto_token}", headers=ada)).status_code == 204
    assert (await anon.get("/auth/me", headers=people.headers(Role.OPERATOR))).status_code == 401


@pytest.mark.parametrize("body", [{"expires_days": 0}, {"expires_days": -1}, {"days": 3}])
async def test_a_bad_token_request_is_422(
    people: People, anon: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    r = await anon.post("/auth/tokens", json=body, headers=people.headers(Role.VIEWER))
    assert r.status_code == 422


async def test_revoking_a_token_over_rest_closes_its_websockets_with_4401(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    sid = await start_task(anon, people)
    vera = await watching(auth_server, sid, people.headers(Role.VIEWER))
    otto = await watching(auth_server, sid, people.headers(Role.OPERATOR))
    try:
        token_id = people.token_ids[Role.VIEWER]
        r = await anon.delete(f"/auth/tokens/{token_id}", headers=people.headers(Role.VIEWER))
        assert r.status_code == 204
        assert await closed_with(vera) == 4401
        await otto.send({"type": "ping"})  # other credentials' tabs are untouched
        assert (await otto.until("pong"))["type"] == "pong"
    finally:
        await vera.close()
        await otto.close()


async def test_a_message_waiting_when_its_token_is_revoked_is_not_acted_on(
    people: People,
) -> None:
    # The tab's answer holds its handler in a store write (the task database is locked);
    # its cancel waits behind it, already received. The token is revoked meanwhile: the
    # cancel must not be acted on (the answer, received before, may be).
    with run_server(people.data_dir, registry=make_registry(), auth=True) as live:
        async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
            sid = await start_task(http, people)
            watcher = await WS.open(live.ws_url, sid, additional_headers=people.headers(VIEWER))
            prompt = await prompted(watcher)
            tab = StalledTab(live.host, live.port, f"/ws/{sid}", people.headers(OPERATOR))
            answer = {"type": "confirm", "value": True, "request_id": prompt["request_id"]}
            try:
                with locked_database(live.settings.database_path):
                    both = [json.dumps(m).encode() for m in (answer, {"type": "cancel"})]
                    tab.sock.sendall(b"".join(tab.frame(0x1, m) for m in both))  # one read
                    token_id = people.token_ids[OPERATOR]
                    r = await http.delete(
                        f"/auth/tokens/{token_id}", headers=people.headers(Role.ADMIN)
                    )
                    assert r.status_code == 204
                assert tab.read_until_end() == 4401
            finally:
                tab.sock.close()  # its handler ends once it has taken all that came before
            registry = live.app.state.connections
            async with asyncio.timeout(10):
                while live.call(len, registry) > 1:
                    await asyncio.sleep(0.02)
            task = (await http.get(f"/tasks/{sid}", headers=people.headers(VIEWER))).json()
            await watcher.close()
    assert task["status"] != "cancelled"


async def test_the_cli_revokes_a_token_while_the_server_runs_and_its_websocket_closes(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    code, out, err = await cli(people.data_dir, "tokens", "create", "--user", "vera")
    assert code == 0, err
    token = out.strip()
    assert token.startswith("ilt_") and "shown only this once" in err
    code, listing, _ = await cli(people.data_dir, "tokens", "list", "--user", "vera")
    new_id = listing.splitlines()[-1].split()[0]
    assert token not in listing
    sid = await start_task(anon, people)
    tab = await watching(auth_server, sid, bearer(token))
    try:
        code, _, err = await cli(people.data_dir, "tokens", "revoke", new_id)
        assert code == 0, err
        assert await closed_with(tab) == 4401
    finally:
        await tab.close()
    assert (await anon.get("/auth/me", headers=bearer(token))).status_code == 401
    assert (await anon.get("/auth/me", headers=people.headers(Role.VIEWER))).status_code == 200


async def test_removing_a_user_with_the_cli_closes_their_websockets_and_ends_their_tokens(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    sid = await start_task(anon, people)
    tab = await watching(auth_server, sid, people.headers(Role.VIEWER))
    try:
        code, _, err = await cli(people.data_dir, "users", "remove", "vera")
        assert code == 0, err
        assert await closed_with(tab) == 4401
    finally:
        await tab.close()
    assert (await anon.get("/auth/me", headers=people.headers(Role.VIEWER))).status_code == 401
    assert (await login(anon, "vera")).status_code == 401


async def test_a_role_change_applies_to_open_websockets(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    sid = await start_task(anon, people)
    tab = await watching(auth_server, sid, people.headers(Role.OPERATOR))
    try:
        code, _, err = await cli(people.data_dir, "users", "set-role", "otto", "viewer")
        assert code == 0, err
        # The server notices within a poll (nothing tells a client when); until then otto may
        # still act as an operator. A few tries per poll stay far below the message rate limit.
        async with asyncio.timeout(10):
            while True:
                await tab.send({"type": "confirm", "value": True, "request_id": "stale"})
                reply = await tab.until("error")
                if reply["code"] == "forbidden":
                    break
                assert reply["code"] == "stale_request"
                await asyncio.sleep(POLL_INTERVAL / 4)
        await tab.send({"type": "ping"})
        assert (await tab.until("pong"))["type"] == "pong"  # still connected, as a viewer
    finally:
        await tab.close()
    assert (await anon.get("/auth/me", headers=people.headers(Role.OPERATOR))).json() == {
        "user": "otto",
        "role": "viewer",
    }


async def test_an_expired_token_is_refused_and_its_websocket_closes_when_it_expires(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    store = await with_store(people.data_dir)
    try:
        old, soon = new_token(), new_token()
        await store.add_credential(
            CredentialKind.TOKEN, "vera", digest(old), utcnow() - timedelta(seconds=1)
        )
        await store.add_credential(
            CredentialKind.TOKEN, "vera", digest(soon), utcnow() + timedelta(seconds=1)
        )
    finally:
        await store.close()
    assert (await anon.get("/auth/me", headers=bearer(old))).status_code == 401
    sid = await start_task(anon, people)
    tab = await watching(auth_server, sid, bearer(soon))
    try:
        assert await closed_with(tab) == 4401
    finally:
        await tab.close()
    assert (await anon.get("/auth/me", headers=bearer(soon))).status_code == 401
    _, listing, _ = await cli(people.data_dir, "tokens", "list", "--user", "vera")
    assert [line.split()[-1] for line in listing.splitlines()[1:]] == [
        "active",
        "expired",
        "expired",
    ]


async def test_the_data_dir_holds_no_token_password_or_session_in_the_clear(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    people = await seed(data)
    secrets = [PASSWORD, *people.tokens.values()]
    with run_server(data, registry=make_registry(), auth=True) as live:
        async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:
            r = await login(http, "ada")
            secrets.append(r.cookies["interlock_session"])
            admin = people.headers(Role.ADMIN)
            made = await http.post("/auth/tokens", headers=admin)
            secrets.append(made.json()["token"])
            await http.get("/auth/tokens", headers=bearer(made.json()["token"]))
            code, out, _ = await cli(data, "tokens", "create", "--user", "otto")
            secrets.append(out.strip())
            code, _, _ = await cli(
                data, "users", "add", "zoe", "--role", "viewer", "--password-stdin",
                stdin="zoe's own passphrase\n",
            )  # fmt: skip
            assert code == 0
            secrets.append("zoe's own passphrase")
            assert (await login(http, "zoe", "zoe's own passphrase")).status_code == 200
            secrets.append(http.cookies["interlock_session"])
            await http.post("/auth/logout")
            found_while_running = leaks(data, secrets)
    assert not found_while_running
    assert not leaks(data, secrets)
    assert (data / "auth.sqlite3").stat().st_mode & 0o077 == 0  # owner only


def leaks(data_dir: Path, secrets: list[str]) -> list[str]:
    """Files under ``data_dir`` that hold one of ``secrets`` (as UTF-8 bytes)."""
    found = []
    files = [path for path in data_dir.rglob("*") if path.is_file()]
    assert any(path.name.startswith("auth.sqlite3") for path in files)
    for path in files:
        content = path.read_bytes()
        found += [f"{path.name}: {s[:8]}…" for s in secrets if s.encode() in content]
    return found
