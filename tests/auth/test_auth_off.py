"""With authentication off (the default) there are no users: everyone is the local admin,
answers record no user or role, and the account routes say that they are off."""

from __future__ import annotations

import httpx

from interlock.api.deps import AUTH_OFF
from tests.support.server import LiveServer
from tests.support.ws import WS


async def test_everyone_is_the_local_admin_and_account_routes_are_off(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/auth/me")).json() == {"user": None, "role": "admin"}
    login = await client.post("/auth/login", json={"username": "a", "password": "b"})
    for r in (login, await client.get("/auth/tokens"), await client.post("/auth/logout")):
        assert r.status_code == 404
        assert r.json() == {"detail": AUTH_OFF}


async def test_answers_record_no_user_or_role(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = (await client.post("/tasks", json={"task_type": "confirm_once"})).json()["task_id"]
    async with await WS.open(server.ws_url, sid) as ws:
        prompt = await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": True, "request_id": prompt["request_id"]})
        resolved = await ws.until("request_resolved")
    assert resolved["answered_by"]["user"] is None
    assert resolved["answered_by"]["role"] is None
