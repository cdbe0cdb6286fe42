"""REST: submit, list, inspect, cancel, validation and capacity."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter

from interlock.api.views import TaskView
from interlock.runtime import TaskContext
from interlock.tasks import TaskRegistry
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


async def wait_status(client: httpx.AsyncClient, task_id: str, *status: str) -> dict[str, Any]:
    """Wait for the task to reach one of ``status``: watch its ``status`` messages."""
    base = str(client.base_url).replace("http", "ws", 1).rstrip("/")
    async with await WS.open(base, task_id) as ws:
        start, items, _ = await ws.replay()
        seen = {start["status"], *(m["status"] for m in items if m["type"] == "status")}
        if not seen & set(status):
            async with asyncio.timeout(10):
                while (await ws.until("status"))["status"] not in status:
                    pass
    body: dict[str, Any] = (await client.get(f"/tasks/{task_id}")).json()
    return body


async def test_health_routes_answer_ok(client: httpx.AsyncClient) -> None:
    for path in ("/health", "/api/health", "/"):
        r = await client.get(path)
        assert r.status_code == 200
        body = r.json()
        assert body["status"] == "ok" and body["service"] == "interlock" and body["version"]


async def test_task_types_list_schemas(client: httpx.AsyncClient) -> None:
    types = {t["name"]: t for t in (await client.get("/task-types")).json()}
    for name in ("dummy_short", "dummy_long", "dummy_very_long", "interactive_demo"):
        assert name in types
    props = types["dummy_long"]["parameters_schema"]["properties"]
    assert props["duration"]["default"] == 30 and props["steps"]["default"] == 10
    assert types["dummy_very_long"]["parameters_schema"]["properties"]["steps"]["default"] == 20


async def test_post_tasks_returns_202_with_urls(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/tasks", json={"task_type": "dummy_short", "parameters": {"duration": 0.05, "steps": 2}}
    )
    assert r.status_code == 202
    body = r.json()
    assert body["task_id"] == body["session_id"]
    assert body["status"] in ("pending", "running")
    assert body["status_url"] == f"/tasks/{body['task_id']}"
    assert body["ws_url"] == f"/ws/{body['task_id']}"
    done = await wait_status(client, body["task_id"], "completed")
    assert done["progress"] == 100
    assert done["parameters"] == {"duration": 0.05, "steps": 2}
    assert done["result"]["steps"] == 2
    for key in (
        "created_at",
        "started_at",
        "completed_at",
        "message",
        "stage",
        "error",
        "pending_request",
        "task_type",
    ):
        assert key in done


async def test_unknown_type_and_bad_parameters_are_422_with_fields(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post("/tasks", json={"task_type": "nope"})
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "task_type"]
    r = await client.post(
        "/tasks", json={"task_type": "dummy_short", "parameters": {"steps": "many", "duration": -1}}
    )
    assert r.status_code == 422
    locs = {tuple(e["loc"]) for e in r.json()["detail"]}
    assert ("body", "parameters", "steps") in locs and ("body", "parameters", "duration") in locs
    r = await client.post(
        "/tasks", json={"task_type": "dummy_short", "parameters": {"durration": 1}}
    )
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "parameters", "durration"]
    assert "unknown parameter" in r.json()["detail"][0]["msg"]


async def test_malformed_bodies_are_4xx(client: httpx.AsyncClient) -> None:
    for content in (b"{not json", b"[]", b'"x"', b""):
        r = await client.post(
            "/tasks", content=content, headers={"content-type": "application/json"}
        )
        assert 400 <= r.status_code < 500, (content, r.status_code)
    r = await client.post(
        "/tasks/x/answer", content=b"{", headers={"content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
    r = await client.get("/tasks?limit=zero")
    assert r.status_code == 422
    r = await client.get("/tasks?status=bogus")
    assert r.status_code == 422


async def test_second_task_gets_409_but_bad_request_still_gets_422(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.post("/tasks", json={"task_type": "block"})).json()
    r = await client.post("/tasks", json={"task_type": "block"})
    assert r.status_code == 409
    assert r.json() == {"detail": f"A task is already running: {first['task_id']}"}
    r = await client.post("/tasks", json={"task_type": "dummy_short", "parameters": {"steps": 0}})
    assert r.status_code == 422
    assert (await client.delete(f"/tasks/{first['task_id']}")).status_code == 200


async def test_queued_task_starts_when_the_slot_frees(client: httpx.AsyncClient) -> None:
    first = (await client.post("/tasks", json={"task_type": "block"})).json()
    second = await client.post(
        "/tasks",
        json={"task_type": "dummy_short", "queue": True, "parameters": {"duration": 0, "steps": 1}},
    )
    assert second.status_code == 202
    body = second.json()
    assert body["status"] == "queued" and body["queue_position"] == 1
    third = (await client.post("/tasks", json={"task_type": "block", "queue": True})).json()
    info = (await client.get(f"/tasks/{third['task_id']}")).json()
    assert info["status"] == "queued" and info["queue_position"] == 2
    await client.delete(f"/tasks/{first['task_id']}")
    await wait_status(client, body["task_id"], "completed")
    await wait_status(client, third["task_id"], "running")
    assert (await client.delete(f"/tasks/{third['task_id']}")).status_code == 200


async def test_cancel_queued_task(client: httpx.AsyncClient) -> None:
    first = (await client.post("/tasks", json={"task_type": "block"})).json()
    queued = (await client.post("/tasks", json={"task_type": "block", "queue": True})).json()
    r = await client.delete(f"/tasks/{queued['task_id']}")
    assert r.json() == {
        "task_id": queued["task_id"],
        "status": "cancelled",
        "message": "Task cancelled successfully",
    }
    assert (await client.get(f"/tasks/{queued['task_id']}")).json()["status"] == "cancelled"
    await client.delete(f"/tasks/{first['task_id']}")


async def test_delete_answers_once_the_task_has_ended(client: httpx.AsyncClient) -> None:
    task = (
        await client.post("/tasks", json={"task_type": "block", "parameters": {"cleanup": 0.3}})
    ).json()
    assert (await client.delete(f"/tasks/{task['task_id']}")).status_code == 200
    body = (await client.get(f"/tasks/{task['task_id']}")).json()
    assert body["status"] == "cancelled" and body["completed_at"] is not None
    assert (await client.get("/tasks/current/info")).json() is None


async def test_cancel_unknown_or_finished_is_400(client: httpx.AsyncClient) -> None:
    detail = {"detail": "Task cannot be cancelled (not found or already completed)"}
    r = await client.delete("/tasks/does-not-exist")
    assert r.status_code == 400 and r.json() == detail
    task = (
        await client.post(
            "/tasks", json={"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}}
        )
    ).json()
    await wait_status(client, task["task_id"], "completed")
    r = await client.delete(f"/tasks/{task['task_id']}")
    assert r.status_code == 400 and r.json() == detail


async def test_cancel_runs_finally_blocks(client: httpx.AsyncClient, server: LiveServer) -> None:
    task = (await client.post("/tasks", json={"task_type": "block"})).json()
    async with await WS.open(server.ws_url, task["task_id"]) as ws:
        await ws.until("stream")
        await client.delete(f"/tasks/{task['task_id']}")
        end = await ws.until("task_cancelled")
        lines = [m["content"] for m in ws.received if m["type"] == "stream"]
    assert "cleanup ran" in lines
    assert end["reason"]
    assert (await client.get(f"/tasks/{task['task_id']}")).json()["status"] == "cancelled"


async def test_get_unknown_task_is_404(client: httpx.AsyncClient) -> None:
    assert (await client.get("/tasks/nope")).status_code == 404


async def test_list_is_newest_first_with_filter_and_limit(client: httpx.AsyncClient) -> None:
    ids = []
    for _ in range(3):
        t = (
            await client.post(
                "/tasks",
                json={"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}},
            )
        ).json()
        await wait_status(client, t["task_id"], "completed")
        ids.append(t["task_id"])
    listed = [t["task_id"] for t in (await client.get("/tasks")).json()]
    assert listed[:3] == ids[::-1]
    assert len((await client.get("/tasks?limit=2")).json()) == 2
    assert (await client.get("/tasks?status=running")).json() == []
    assert len((await client.get("/tasks?status=completed")).json()) == 3


async def test_current_info_shows_the_active_task(client: httpx.AsyncClient) -> None:
    assert (await client.get("/tasks/current/info")).json() is None
    task = (await client.post("/tasks", json={"task_type": "block"})).json()
    current = (await client.get("/tasks/current/info")).json()
    assert current["task_id"] == task["task_id"]
    await client.delete(f"/tasks/{task['task_id']}")


async def test_failing_task_is_failed_with_error(client: httpx.AsyncClient) -> None:
    task = (await client.post("/tasks", json={"task_type": "explode"})).json()
    body = await wait_status(client, task["task_id"], "failed")
    assert "boom" in body["error"]


async def test_task_timeout_fails_with_clear_error(client: httpx.AsyncClient) -> None:
    task = (await client.post("/tasks", json={"task_type": "slow_timeout"})).json()
    body = await wait_status(client, task["task_id"], "failed")
    assert "timed out" in body["error"]


async def test_poc_routes(client: httpx.AsyncClient, server: LiveServer) -> None:
    r = await client.post("/start-task")
    assert r.status_code == 200  # the POC answered 200
    sid = r.json()["session_id"]
    info = (await client.get(f"/session-info/{sid}")).json()
    assert info["task_exists"] is True and info["session_id"] == sid
    assert info["is_connected"] is False and info["connections"] == 0
    async with await WS.open(server.ws_url, sid) as ws:
        await ws.replay()
        info = (await client.get(f"/session-info/{sid}")).json()
        assert info["is_connected"] is True and info["connections"] == 1
        assert info["saved_state_messages"] >= 1
        assert (await client.post(f"/cancel-task/{sid}")).status_code == 200
        await ws.until("task_cancelled")
    assert (await client.post(f"/cancel-task/{sid}")).status_code == 400
    missing = (await client.get("/session-info/nope")).json()
    assert missing["task_exists"] is False
    r = await client.post(
        "/start-task", json={"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}}
    )
    assert r.status_code == 200


async def test_openapi_lists_routes(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/tasks",
        "/tasks/{task_id}",
        "/tasks/{task_id}/answer",
        "/task-types",
        "/start-task",
        "/health",
    ):
        assert path in paths


async def test_run_blocking_keeps_the_loop_free(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    task = (
        await client.post(
            "/tasks", json={"task_type": "blocking_call", "parameters": {"seconds": 0.5}}
        )
    ).json()
    # Were the 0.5 s sleep on the event loop, the server's slow-callback check would fail
    # this test when the server stops (tests/support/loopwatch.py); no stopwatch needed.
    async with await WS.open(server.ws_url, task["task_id"]) as ws:
        await ws.until("stream")
        await ws.send({"type": "ping"})
        await ws.until("pong")
        done = await ws.until("task_completed")
    assert done["result"]["took"] >= 0.5


async def test_retention_prunes_old_finished_tasks_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, registry=make_registry()) as first:
        async with httpx.AsyncClient(base_url=first.url) as http:
            sid = (
                await http.post(
                    "/tasks",
                    json={"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}},
                )
            ).json()["task_id"]
            await wait_status(http, sid, "completed")
    with run_server(data, registry=make_registry(), retention_days=1e-9) as second:
        async with httpx.AsyncClient(base_url=second.url) as http:
            assert (await http.get(f"/tasks/{sid}")).status_code == 404
            assert (await http.get("/tasks")).json() == []


async def test_cancel_before_the_task_ran_a_step_still_ends_it(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    manager = server.manager

    async def create_and_cancel() -> str:
        session = await manager.create("block", {})
        assert manager.cancel(session.id)  # same loop step: the runner has not started
        return session.id

    sid = asyncio.run_coroutine_threadsafe(create_and_cancel(), server.loop).result(5)
    body = await wait_status(client, sid, "cancelled")
    assert body["started_at"] is None
    r = await client.post(
        "/tasks", json={"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}}
    )
    assert r.status_code == 202, "the slot was not freed"


async def test_global_task_timeout_fails_any_task(tmp_path: Path) -> None:
    with run_server(tmp_path / "d", registry=make_registry(), task_timeout=0.2) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:
            task = (await http.post("/tasks", json={"task_type": "block"})).json()
            body = await wait_status(http, task["task_id"], "failed")
    assert body["error"] == "Task timed out after 0.2 s"


async def test_queue_is_first_come_first_served_for_shared_resources(tmp_path: Path) -> None:
    with run_server(tmp_path / "d", registry=make_registry(), max_concurrent=5) as server:
        async with httpx.AsyncClient(base_url=server.url) as http:

            async def hold(*resources: str, queue: bool = True) -> dict[str, Any]:
                body = {
                    "task_type": "hold",
                    "parameters": {"resources": list(resources)},
                    "queue": queue,
                }
                r = await http.post("/tasks", json=body)
                assert r.status_code == 202, r.text
                return dict(r.json())

            x = await hold("axis:x")
            whole = await hold("axis")  # needs every axis: waits for x
            y = await hold("axis:y")  # y is free, but the whole-stage task came first
            other = await hold("pump")  # needs nothing the queue needs: runs now
            assert (whole["status"], y["status"], other["status"]) == (
                "queued",
                "queued",
                "pending",
            )
            await http.delete(f"/tasks/{x['task_id']}")
            await wait_status(http, whole["task_id"], "running")
            assert (await http.get(f"/tasks/{y['task_id']}")).json()["status"] == "queued"
            await http.delete(f"/tasks/{whole['task_id']}")
            await wait_status(http, y["task_id"], "running")
            for task in (y, other):
                await http.delete(f"/tasks/{task['task_id']}")


#: How FastAPI serialized GET /tasks before it serialized plain rows: a model per task.
TASK_VIEWS: TypeAdapter[list[TaskView]] = TypeAdapter(list[TaskView])


def varied_registry() -> TaskRegistry:
    """The test task types and one that reports (artifacts, progress) before it asks."""
    registry = make_registry()

    @registry.task("report_then_confirm")
    async def report_then_confirm(ctx: TaskContext[Any]) -> None:
        ctx.add_artifact("b.csv", b"x\n1\n")
        ctx.add_artifact("a.txt", b"hello", "text/plain")
        await ctx.progress(12.5, "half-way")
        await ctx.confirm("Go on?")

    return registry


async def start_varied_tasks(client: httpx.AsyncClient) -> list[str]:
    """Tasks in every shape GET /tasks shows (with ``max_concurrent=3``), oldest first:
    completed, failed, waiting at a confirmation (with artifacts and progress), waiting at
    a form, running, queued."""
    done = await client.post(
        "/tasks", json={"task_type": "dummy_short", "parameters": {"duration": 0}}
    )
    await wait_status(client, done.json()["task_id"], "completed")
    failed = (await client.post("/tasks", json={"task_type": "explode"})).json()
    await wait_status(client, failed["task_id"], "failed")
    ids = [done.json()["task_id"], failed["task_id"]]
    for task_type in ("report_then_confirm", "ask_once", "block", "block"):
        r = await client.post("/tasks", json={"task_type": task_type, "queue": True})
        ids.append(r.json()["task_id"])
    for task_id in ids[2:4]:
        await wait_status(client, task_id, "waiting")
    return ids


def check_varied_list(listed: httpx.Response) -> None:
    """The list is byte for byte what a TaskView per task serializes to, in every shape."""
    assert listed.headers["content-type"] == "application/json"
    views = TASK_VIEWS.validate_json(listed.content)
    assert TASK_VIEWS.dump_json(views, by_alias=True) == listed.content  # as FastAPI does
    rows = listed.json()
    statuses = ["queued", "running", "waiting", "waiting", "failed", "completed"]
    assert [row["status"] for row in rows] == statuses
    assert [a["name"] for a in rows[3]["artifacts"]] == ["a.txt", "b.csv"]
    assert rows[3]["progress"] == 12.5 and rows[5]["progress"] == 100
    assert rows[2]["pending_request"]["type"] == "request_user_input"
    assert rows[3]["pending_request"]["type"] == "request_confirmation"


async def test_the_list_shows_each_task_exactly_as_its_own_route_does(tmp_path: Path) -> None:
    """GET /tasks serializes plain rows, not a model per task: the same bytes as TaskView,
    and as each task's own route."""
    with run_server(tmp_path / "data", registry=varied_registry(), max_concurrent=3) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            ids = await start_varied_tasks(client)
            listed = await client.get("/tasks")
            each = [(await client.get(f"/tasks/{task_id}")).text for task_id in reversed(ids)]
    check_varied_list(listed)
    assert listed.text == f"[{','.join(each)}]"
    assert listed.json()[0]["queue_position"] == 1
