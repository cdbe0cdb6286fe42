"""Who may do what: every route and every client message x {anonymous, viewer, operator,
admin}, from the app's own route table, against a real server with authentication on.

``ROUTES`` is the intended policy. A route the app has and this table does not (or the
other way round) fails the test, and so does a route whose declared dependency
(``require(role)`` or ``Public``) differs from it; then every cell is tried for real.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, APIWebSocketRoute
from websockets.exceptions import InvalidStatus

from interlock import protocol as p
from interlock.api.deps import Require, public
from interlock.api.ws import MESSAGE_ROLES
from interlock.app import create_app
from interlock.auth import Role
from interlock.settings import Settings
from interlock.store import MemoryStore
from tests.support.auth import NAMES, People, enroll
from tests.support.server import LiveServer
from tests.support.ws import WS
from tests.support.wsclose import prompted

PUBLIC = "public"
VIEWER, OPERATOR, ADMIN = Role.VIEWER, Role.OPERATOR, Role.ADMIN

#: (method, path) -> the least role it needs, or PUBLIC.
ROUTES: dict[tuple[str, str], Role | str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/api/health"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("GET", "/{path:path}"): PUBLIC,  # the console's files
    ("GET", "/docs"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/docs/assets/{name}"): PUBLIC,
    ("GET", "/favicon.ico"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("POST", "/auth/login"): PUBLIC,
    ("POST", "/auth/logout"): PUBLIC,
    ("GET", "/auth/me"): VIEWER,
    ("GET", "/auth/tokens"): VIEWER,
    ("POST", "/auth/tokens"): VIEWER,
    ("DELETE", "/auth/tokens/{token_id}"): VIEWER,  # own tokens; admins anyone's
    ("GET", "/auth/users"): ADMIN,
    ("GET", "/task-types"): VIEWER,
    ("GET", "/tasks"): VIEWER,
    ("POST", "/tasks"): OPERATOR,
    ("GET", "/tasks/current/info"): VIEWER,
    ("GET", "/tasks/{task_id}"): VIEWER,
    ("DELETE", "/tasks/{task_id}"): OPERATOR,
    ("POST", "/tasks/{task_id}/answer"): OPERATOR,
    ("GET", "/tasks/{task_id}/requests"): VIEWER,
    ("GET", "/tasks/{task_id}/messages"): VIEWER,
    ("GET", "/tasks/{task_id}/artifacts/{name}"): VIEWER,
    ("POST", "/start-task"): OPERATOR,
    ("POST", "/cancel-task/{session_id}"): OPERATOR,
    ("GET", "/session-info/{session_id}"): VIEWER,
    ("GET", "/hardware"): VIEWER,
    ("POST", "/hardware/stop"): VIEWER,  # anyone who can see may stop
    ("POST", "/move/relative"): OPERATOR,
    ("POST", "/move/absolute"): OPERATOR,
    ("GET", "/move/status/{task_id}"): VIEWER,
    ("POST", "/move/stop/{task_id}"): OPERATOR,
    ("POST", "/uploads"): OPERATOR,
    ("GET", "/metrics"): VIEWER,  # any token: the figures name no task's content
    ("WS", "/ws/{session_id}"): VIEWER,
}
CALLERS: list[Role | None] = [None, VIEWER, OPERATOR, ADMIN]


def route_table(app: FastAPI) -> Iterator[tuple[str, str, Dependant | None]]:
    """(method, path, dependant) of every route, "WS" for WebSockets; the dependant holds
    the dependencies in effect (a router's included), None for plain starlette routes."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        routes: Iterator[Any] = iter(app.routes)
    else:
        routes = iter(iter_route_contexts(app.routes))
    for route in routes:
        original = getattr(route, "original_route", route)
        if isinstance(original, APIWebSocketRoute):
            yield "WS", route.path, None
            continue
        dependant = route.dependant if isinstance(original, APIRoute) else None
        for method in route.methods or ():
            if method != "HEAD":
                yield method, route.path, dependant


def declared(dependant: Dependant) -> set[Role | str]:
    """The roles (and PUBLIC) a route's dependencies declare, however deep."""
    out: set[Role | str] = set()
    for dep in dependant.dependencies:
        if isinstance(dep.call, Require):
            out.add(dep.call.role)
        elif dep.call is public:
            out.add(PUBLIC)
        out |= declared(dep)
    return out


def test_every_route_is_in_the_matrix_and_declares_its_role() -> None:
    table = list(route_table(create_app(Settings(auth=True), store=MemoryStore())))
    assert {(method, path) for method, path, _ in table} == set(ROUTES), (
        "add the new route (and its role) to ROUTES"
    )
    for method, path, dependant in table:
        if dependant is None:
            continue  # /openapi.json (FastAPI's) and the WebSocket: tried live below
        roles, want = declared(dependant), ROUTES[(method, path)]
        assert roles, f"{method} {path} declares no role (require() or Public)"
        assert roles == {want}, f"{method} {path}: declares {roles}, want {want}"


def test_every_client_message_has_a_role() -> None:
    assert set(MESSAGE_ROLES) == p.CLIENT_TYPES


def expected(need: Role | str, caller: Role | None) -> int | None:
    """401/403 when the caller may not, None when anything else is right."""
    if need == PUBLIC:
        return None
    assert isinstance(need, Role)
    if caller is None:
        return 401
    return None if caller.allows(need) else 403


async def test_every_route_answers_every_role_as_the_matrix_says(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    failures: list[str] = []
    for (method, path), need in sorted(ROUTES.items(), key=str):
        if method == "WS":
            continue
        url = path.replace("{path:path}", "nope.txt")
        for name in ("task_id", "session_id", "name", "token_id"):
            url = url.replace("{" + name + "}", "nope")
        # A body no route accepts: allowed callers get 4xx for it, never a side effect
        # (except the stop, which is harmless here).
        body: dict[str, Any] | None = None if method == "GET" else {"task_type": "nope"}
        for caller in CALLERS:
            r = await anon.request(method, url, json=body, headers=people.headers(caller))
            want = expected(need, caller)
            if want is None:
                ok = r.status_code not in (401, 403)
            elif want == 401:
                ok = (
                    r.status_code == 401
                    and r.json() == {"detail": "Not authenticated"}
                    and r.headers.get("www-authenticate") == "Bearer"
                )
            else:
                ok = r.status_code == 403 and r.json() == {"detail": f"Forbidden: requires {need}"}
            if not ok:
                failures.append(f"{method} {path} as {caller}: {r.status_code} {r.text[:80]}")
    assert not failures, "\n".join(failures)


async def test_a_websocket_handshake_without_valid_credentials_is_refused_with_401(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    r = await anon.post(
        "/tasks", json={"task_type": "confirm_once"}, headers=people.headers(Role.OPERATOR)
    )
    sid = r.json()["task_id"]
    for headers in ({}, {"Authorization": "Bearer ilt_not-a-real-token"}, {"Authorization": "x"}):
        with pytest.raises(InvalidStatus) as refused:
            await WS.open(auth_server.ws_url, sid, additional_headers=headers)
        assert refused.value.response.status_code == 401
        assert refused.value.response.headers["WWW-Authenticate"] == "Bearer"
    assert len(auth_server.app.state.connections) == 0  # never accepted, never registered
    await anon.delete(f"/tasks/{sid}", headers=people.headers(Role.OPERATOR))


#: One message of each client type, aimed at nothing real: an allowed sender gets a
#: harmless answer (pong, stale_request, presence), a forbidden one gets ``forbidden``.
SAMPLES: dict[str, dict[str, Any]] = {
    "ping": {"type": "ping"},
    "confirm": {"type": "confirm", "value": True, "request_id": "stale"},
    "user_input": {"type": "user_input", "values": {}, "request_id": "stale"},
    "cancel": {"type": "cancel"},
    # Tried last: once a tab announced itself it may get presence at any time. (Claiming to
    # be answering a prompt needs an operator: tests/api/test_presence.py.)
    "presence": {"type": "presence"},
}


async def test_every_client_message_is_authorized_by_role(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    assert set(SAMPLES) == p.CLIENT_TYPES, "add a sample of the new message type"
    operator = people.headers(Role.OPERATOR)
    r = await anon.post("/tasks", json={"task_type": "confirm_once"}, headers=operator)
    sid = r.json()["task_id"]
    tabs = {
        role: await WS.open(auth_server.ws_url, sid, additional_headers=people.headers(role))
        for role in (VIEWER, OPERATOR, ADMIN)
    }
    try:
        for tab in tabs.values():
            prompt = await prompted(tab)
        for role, tab in tabs.items():
            for kind, message in SAMPLES.items():
                if kind == "cancel" and role.allows(Role.OPERATOR):
                    continue  # would end the task: tried last
                await tab.send(message)
                reply = await tab.recv()
                if role.allows(MESSAGE_ROLES[kind]):
                    assert reply["type"] in ("pong", "presence") or (
                        reply.get("code") == "stale_request"
                    ), reply
                else:
                    assert reply["type"] == "error" and reply["code"] == "forbidden", reply
                    assert "operator" in reply["message"]
        # The viewer's attempts changed nothing: the prompt is still open.
        task = (await anon.get(f"/tasks/{sid}", headers=operator)).json()
        assert task["status"] == "waiting"
        assert task["pending_request"]["request_id"] == prompt["request_id"]
        await tabs[OPERATOR].send({"type": "cancel"})
        assert (await tabs[VIEWER].until("task_cancelled"))["type"] == "task_cancelled"
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs.values()))


async def test_answers_record_the_user_and_role_over_websocket_and_http(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    admin, operator = people.headers(Role.ADMIN), people.headers(Role.OPERATOR)
    r = await anon.post("/tasks", json={"task_type": "two_hazards"}, headers=operator)
    sid = r.json()["task_id"]
    async with await WS.open(auth_server.ws_url, sid, additional_headers=operator) as ws:
        first = await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": True, "request_id": first["request_id"]})
        resolved = await ws.until("request_resolved")
        second = await ws.until("request_confirmation")
        answer = {"request_id": second["request_id"], "value": True}
        r = await anon.post(f"/tasks/{sid}/answer", json=answer, headers=admin)
        assert r.status_code == 200, r.text
        await ws.until("task_completed")
    assert resolved["answered_by"]["user"] == NAMES[OPERATOR]
    assert resolved["answered_by"]["role"] == "operator"
    trail = (await anon.get(f"/tasks/{sid}/requests", headers=operator)).json()
    by = [
        (t["answered_by"]["user"], t["answered_by"]["role"], t["answered_by"]["via"]) for t in trail
    ]
    assert by == [(NAMES[OPERATOR], "operator", "websocket"), (NAMES[ADMIN], "admin", "http")]


async def test_only_the_respondents_and_admins_answer_a_task_that_names_them(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    """The matrix for a task started with ``respondents: ["otto"]``, with one more kind of
    caller: an operator who is not named. Refusals change nothing: the prompt stays open."""
    oona = await enroll(people.data_dir, "oona", Role.OPERATOR)
    viewer, operator, admin = (people.headers(role) for role in (VIEWER, OPERATOR, ADMIN))
    body = {"task_type": "two_hazards", "respondents": ["otto"]}
    r = await anon.post("/tasks", json=body, headers=operator)
    assert r.status_code == 202, r.text
    sid = r.json()["task_id"]
    tabs = {
        name: await WS.open(auth_server.ws_url, sid, additional_headers=headers)
        for name, headers in (("vera", viewer), ("oona", oona), ("otto", operator))
    }
    try:
        for tab in tabs.values():
            first = await prompted(tab)
        assert first["respondents"] == ["otto"]  # the console can say who may answer
        confirm = {"type": "confirm", "value": True, "request_id": first["request_id"]}
        refusals = {
            "vera": "confirm requires the operator role",
            "oona": "only otto (or an admin) may answer this task",
        }
        for name, message in refusals.items():
            await tabs[name].send(confirm)
            reply = await tabs[name].recv()
            assert reply["type"] == "error" and reply["code"] == "forbidden", reply
            assert reply["message"] == message
        answer = {"request_id": first["request_id"], "value": True}
        url = f"/tasks/{sid}/answer"
        r = await anon.post(url, json=answer)
        assert r.status_code == 401
        r = await anon.post(url, json=answer, headers=viewer)
        assert (r.status_code, r.json()) == (403, {"detail": "Forbidden: requires operator"})
        r = await anon.post(url, json=answer, headers=oona)
        assert r.status_code == 403
        assert r.json() == {"detail": refusals["oona"], "code": "forbidden", "errors": []}
        task = (await anon.get(f"/tasks/{sid}", headers=viewer)).json()
        assert task["status"] == "waiting" and task["respondents"] == ["otto"]
        assert task["pending_request"]["request_id"] == first["request_id"]
        assert task["pending_request"]["respondents"] == ["otto"]
        # An admin always may (over HTTP here), and so does otto (over the WebSocket).
        r = await anon.post(url, json=answer, headers=admin)
        assert r.status_code == 200, r.text
        second = await tabs["otto"].until("request_confirmation")
        await tabs["otto"].send({**confirm, "request_id": second["request_id"]})
        await tabs["otto"].until("task_completed")
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs.values()))
    trail = (await anon.get(f"/tasks/{sid}/requests", headers=viewer)).json()
    by = [(t["answered_by"]["user"], t["answered_by"]["via"]) for t in trail]
    assert by == [("ada", "http"), ("otto", "websocket")]


async def test_respondents_do_not_restrict_cancel(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    """A cancel stops motion: every operator may, whoever may answer."""
    oona = await enroll(people.data_dir, "oona", Role.OPERATOR)
    body = {"task_type": "confirm_once", "respondents": ["otto"]}
    r = await anon.post("/tasks", json=body, headers=people.headers(OPERATOR))
    sid = r.json()["task_id"]
    async with await WS.open(auth_server.ws_url, sid, additional_headers=oona) as tab:
        await prompted(tab)
        await tab.send({"type": "cancel"})
        await tab.until("task_cancelled")
    task = (await anon.get(f"/tasks/{sid}", headers=oona)).json()
    assert (task["status"], task["cancelled_by"]) == ("cancelled", "oona")


async def test_a_task_type_reserved_for_admins_is_refused_to_operators(
    auth_server: LiveServer, people: People, anon: httpx.AsyncClient
) -> None:
    roles = {
        t["name"]: t["role"]
        for t in (await anon.get("/task-types", headers=people.headers(VIEWER))).json()
    }
    assert roles["maintenance"] == "admin"  # registered with role=Role.ADMIN
    assert roles["axis_movement"] == roles["csv_scan"] == roles["confirm_once"] == "operator"
    operator, admin = people.headers(OPERATOR), people.headers(ADMIN)
    for path in ("/tasks", "/start-task"):
        r = await anon.post(path, json={"task_type": "maintenance"}, headers=operator)
        assert (r.status_code, r.json()) == (403, {"detail": "Forbidden: requires admin"})
    assert (await anon.get("/tasks", headers=operator)).json() == []  # nothing was created
    r = await anon.post("/tasks", json={"task_type": "maintenance"}, headers=admin)
    assert r.status_code == 202, r.text
