"""Seed 003's motion routes: POST /move/relative and /move/absolute, GET /move/status/{id},
POST /move/stop/{id}, as thin aliases over axis_movement tasks (hazard confirmation included)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.hardware.support import RecordingController, until_moving, until_terminal
from tests.support.server import LiveServer
from tests.support.ws import WS


async def _status(client: httpx.AsyncClient, task_id: str) -> dict[str, Any]:
    r = await client.get(f"/move/status/{task_id}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_relative_move_waits_for_yes_then_completes(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    r = await client.post("/move/relative", json={"axis_id": "x", "distance": 300, "speed": 5000})
    assert r.status_code == 202, r.text
    accepted = r.json()
    task_id = accepted["task_id"]
    assert accepted == {
        "task_id": task_id,
        "status": accepted["status"],
        "status_url": f"/move/status/{task_id}",
        "operation_type": "axis_movement",
    }
    assert accepted["status"] in {"pending", "running", "waiting"}
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["kind"] == "hazard" and prompt["details"]["to"] == 300.0
        status = await _status(client, task_id)
        assert status["status"] == "waiting" and status["result"] is None
        assert status["error"] is None and status["progress"]["axis"] == "x"
        assert hw.moves == []  # nothing moves before the answer
        r = await client.post(
            f"/tasks/{task_id}/answer", json={"value": True, "request_id": prompt["request_id"]}
        )
        assert r.status_code == 200, r.text
        end = await until_terminal(ws)
    assert end["type"] == "task_completed"
    status = await _status(client, task_id)
    assert status == {
        "task_id": task_id,
        "status": "completed",
        "progress": {
            "progress_percent": 100.0,
            "message": "Moving x",
            "stage": "moving",
            "axis": "x",
            "current_position": 300.0,
            "target_position": 300.0,
            "unit": "um",
        },
        "result": {"axis": "x", "position": 300.0, "target": 300.0},
        "error": None,
    }


async def test_absolute_move_is_stopped_by_move_stop(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    r = await client.post(
        "/move/absolute", json={"axis_id": "y", "position": 9_000, "speed": 2_000}
    )
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": True, "request_id": prompt["request_id"]})
        await until_moving(ws, 0.0)
        moving = await _status(client, task_id)
        assert moving["status"] == "running"
        assert moving["progress"]["target_position"] == 9_000.0
        assert 0 < moving["progress"]["current_position"] < 9_000.0
        r = await client.post(f"/move/stop/{task_id}")
        assert r.status_code == 200, r.text
        assert r.json() == {
            "task_id": task_id,
            "status": "cancelled",
            "message": "Task cancelled successfully",
        }
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled"
    assert [axis for _, axis in hw.stops][:1] == ["y"]
    assert not hw.is_moving("y") and 0 < hw.position("y") < 9_000.0
    assert (await _status(client, task_id))["status"] == "cancelled"
    r = await client.post(f"/move/stop/{task_id}")
    assert r.status_code == 400


async def test_bad_moves_are_422_naming_the_alias_fields_and_create_nothing(
    client: httpx.AsyncClient, hw: RecordingController
) -> None:
    def fields(r: httpx.Response) -> list[tuple[Any, ...]]:
        assert r.status_code == 422, r.text
        return [tuple(e["loc"]) for e in r.json()["detail"]]

    r = await client.post("/move/absolute", json={"axis_id": "x", "position": 20_000})
    assert fields(r) == [("body", "position")]
    assert "outside the soft limits" in r.json()["detail"][0]["msg"]
    r = await client.post("/move/relative", json={"axis_id": "w", "distance": 1})
    assert fields(r) == [("body", "axis_id")]
    r = await client.post("/move/relative", json={"axis_id": 3, "distance": 1})
    assert fields(r) == [("body", "axis_id")]  # a number is an axis id too: unknown here
    r = await client.post("/move/relative", json={"axis_id": "x", "distance": 1, "speed": 0})
    assert fields(r) == [("body", "speed")]
    r = await client.post("/move/relative", json={"axis_id": "x", "position": 1})
    assert ("body", "distance") in fields(r) and ("body", "position") in fields(r)
    assert (await client.get("/tasks")).json() == []
    assert hw.moves == []


async def test_status_and_stop_of_unknown_or_other_tasks_are_404(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/move/status/nope")
    assert r.status_code == 404 and r.json() == {"detail": "Move not found: nope"}
    assert (await client.post("/move/stop/nope")).status_code == 404
    r = await client.post("/tasks", json={"task_type": "dummy_short", "parameters": {}})
    assert r.status_code == 202, r.text
    other = r.json()["task_id"]
    assert (await client.get(f"/move/status/{other}")).status_code == 404
    assert (await client.post(f"/move/stop/{other}")).status_code == 404
