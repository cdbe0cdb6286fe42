"""The audit names people: who started a task (``created_by``, and ``GET /tasks?created_by=``),
who cancelled it (``cancelled_by``: REST, the POC route, the WebSocket, the hardware stop,
a queued task), and who answered (``answered_by``; the server itself on a timeout). With
authentication off every name is null."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from interlock.auth import Role
from tests.support.auth import People
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS
from tests.support.wsclose import prompted


async def start(
    http: httpx.AsyncClient, headers: dict[str, str], task_type: str, **body: Any
) -> str:
    r = await http.post("/tasks", json={"task_type": task_type, **body}, headers=headers)
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def task(http: httpx.AsyncClient, headers: dict[str, str], task_id: str) -> dict[str, Any]:
    r = await http.get(f"/tasks/{task_id}", headers=headers)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_tasks_name_who_started_them_and_list_by_it(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    operator, admin = people.headers(Role.OPERATOR), people.headers(Role.ADMIN)
    first = await start(anon, operator, "confirm_once")
    second = await start(anon, admin, "confirm_once", queue=True)
    third = await start(anon, operator, "confirm_once", queue=True)
    assert (await task(anon, operator, first))["created_by"] == "otto"
    assert (await task(anon, operator, second))["created_by"] == "ada"

    async def listed(query: str) -> list[str]:
        r = await anon.get(f"/tasks?{query}", headers=people.headers(Role.VIEWER))
        assert r.status_code == 200, r.text
        return [t["task_id"] for t in r.json()]

    assert await listed("created_by=otto") == [third, first]
    assert await listed("created_by=ada") == [second]
    assert await listed("created_by=otto&limit=1") == [third]
    assert await listed("created_by=otto&status=queued") == [third]
    assert await listed("created_by=vera") == []
    r = await anon.get("/tasks?created_by=", headers=operator)
    assert r.status_code == 422
    for task_id in (third, second, first):
        await anon.delete(f"/tasks/{task_id}", headers=operator)


async def test_tasks_name_who_cancelled_them_however_they_did(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    viewer, operator, admin = (people.headers(r) for r in (Role.VIEWER, Role.OPERATOR, Role.ADMIN))
    # DELETE /tasks/{id}, with a queued task behind the running one.
    running = await start(anon, operator, "confirm_once")
    queued = await start(anon, operator, "confirm_once", queue=True)
    assert (await anon.delete(f"/tasks/{queued}", headers=admin)).status_code == 200
    assert (await anon.delete(f"/tasks/{running}", headers=operator)).status_code == 200
    # POST /cancel-task/{id} (the POC's route).
    poc = await start(anon, operator, "confirm_once")
    assert (await anon.post(f"/cancel-task/{poc}", headers=admin)).status_code == 200
    # The WebSocket's cancel.
    ws = await start(anon, operator, "confirm_once")
    async with await WS.open(auth_server.ws_url, ws, additional_headers=admin) as tab:
        await prompted(tab)
        await tab.send({"type": "cancel"})
        await tab.until("task_cancelled")
    # The hardware stop, pressed by a viewer (anyone who can see may stop).
    held = await start(anon, operator, "hold", parameters={"resources": ["axis"]})
    async with await WS.open(auth_server.ws_url, held, additional_headers=viewer) as tab:
        r = await anon.post("/hardware/stop", headers=viewer)
        assert r.status_code == 200 and r.json()["cancelled"] == [held], r.text
        await tab.until("task_cancelled")
    # A task nobody cancelled.
    answered = await start(anon, operator, "confirm_once")
    async with await WS.open(auth_server.ws_url, answered, additional_headers=operator) as tab:
        prompt = await prompted(tab)
        await tab.send({"type": "confirm", "value": True, "request_id": prompt["request_id"]})
        await tab.until("task_completed")
    expected = {queued: "ada", running: "otto", poc: "ada", ws: "ada", held: "vera"}
    for task_id, who in expected.items():
        seen = await task(anon, viewer, task_id)
        assert (seen["status"], seen["cancelled_by"]) == ("cancelled", who), task_id
    seen = await task(anon, viewer, answered)
    assert (seen["status"], seen["cancelled_by"]) == ("completed", None)


async def test_the_audit_is_stored_with_the_task(people: People) -> None:
    """Names survive a restart: they are in the task database, not only in memory."""
    operator, admin = people.headers(Role.OPERATOR), people.headers(Role.ADMIN)
    with run_server(people.data_dir, registry=make_registry(), auth=True) as live:
        async with httpx.AsyncClient(base_url=live.url) as http:
            task_id = await start(http, operator, "confirm_once", respondents=["otto"])
            assert (await http.delete(f"/tasks/{task_id}", headers=admin)).status_code == 200
    with run_server(people.data_dir, registry=make_registry(), auth=True) as live:
        async with httpx.AsyncClient(base_url=live.url) as http:
            seen = await task(http, operator, task_id)
            listed = (await http.get("/tasks?created_by=otto", headers=operator)).json()
    assert (seen["created_by"], seen["cancelled_by"], seen["respondents"]) == (
        "otto",
        "ada",
        ["otto"],
    )
    assert [t["task_id"] for t in listed] == [task_id]


async def test_a_timeout_is_answered_by_the_server_with_no_name(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    operator = people.headers(Role.OPERATOR)
    task_id = await start(anon, operator, "confirm_once", parameters={"timeout": 0.2})
    async with await WS.open(auth_server.ws_url, task_id, additional_headers=operator) as tab:
        resolved = await tab.until("request_resolved")
        await tab.until("task_completed")
    trail = (await anon.get(f"/tasks/{task_id}/requests", headers=operator)).json()
    assert [t["status"] for t in trail] == ["timeout"]
    server = {"connection_id": None, "client": None, "user": None, "role": None, "via": "server"}
    assert resolved["answered_by"] == trail[0]["answered_by"] == server


async def test_with_authentication_off_nobody_is_named(tmp_path: Path) -> None:
    with run_server(tmp_path / "d", registry=make_registry()) as live:
        async with httpx.AsyncClient(base_url=live.url) as http:
            task_id = await start(http, {}, "confirm_once")
            assert (await http.delete(f"/tasks/{task_id}")).status_code == 200
            seen = await task(http, {}, task_id)
            assert (await http.get("/tasks?created_by=otto")).json() == []
    assert (seen["created_by"], seen["cancelled_by"], seen["respondents"]) == (None, None, None)
