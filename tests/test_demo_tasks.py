"""The built-in tasks behave as the POC and PyAMA did."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.server import LiveServer
from tests.support.ws import WS

FAST = {"stream_count": 3, "delay": 0}
EMAIL = {"subject": "Hello", "body": "Body", "to_address": "ops@example.com"}


async def start_demo(client: httpx.AsyncClient, **params: Any) -> str:
    r = await client.post(
        "/tasks", json={"task_type": "interactive_demo", "parameters": {**FAST, **params}}
    )
    assert r.status_code == 202, r.text
    sid: str = r.json()["task_id"]
    return sid


async def test_interactive_demo_whole_flow(client: httpx.AsyncClient, server: LiveServer) -> None:
    sid = await start_demo(client)
    async with await WS.open(server.ws_url, sid) as ws:
        form = await ws.until("request_user_input")
        assert [f["name"] for f in form["fields"]] == ["subject", "body", "to_address"]
        assert all(f["required"] for f in form["fields"])
        assert form["schema"]["properties"]["to_address"]["format"] == "email"
        streams = [m["content"] for m in ws.received if m["type"] == "stream"]
        assert len(streams) == 3
        await ws.send({"type": "user_input", "values": {**EMAIL, "to_address": "nope"}})
        err = await ws.until("error")
        assert err["code"] == "validation_error"
        assert [e["field"] for e in err["errors"]] == ["to_address"]
        await ws.send({"type": "user_input", "values": EMAIL})
        failed = await ws.until("attempt_failed")
        assert failed["attempt"] == 1 and failed["max_attempts"] == 3
        retry = await ws.until("request_confirmation")
        assert retry["kind"] == "retry"
        await ws.send({"type": "confirm", "value": True})
        final = await ws.until("request_confirmation")
        assert final["prompt"] == "Send e-mail to ops@example.com?"
        assert final["kind"] == "confirm"
        await ws.send({"type": "confirm", "value": True})
        done = await ws.until("task_completed")
    assert done["values"] == EMAIL
    assert done["result"] == {"sent": True, "attempts": 2}
    task = (await client.get(f"/tasks/{sid}")).json()
    assert task["status"] == "completed" and task["progress"] == 100


async def test_declining_the_send_cancels_with_declined(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start_demo(client, fail_attempts=0)
    async with await WS.open(server.ws_url, sid) as ws:
        await ws.until("request_user_input")
        await ws.send({"type": "user_input", "values": EMAIL})
        await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": False})
        end = await ws.until("task_cancelled")
    assert end["reason"] == "declined"
    assert (await client.get(f"/tasks/{sid}")).json()["status"] == "cancelled"


async def test_refusing_a_retry_fails_without_retry(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start_demo(client, fail_attempts=2)
    async with await WS.open(server.ws_url, sid) as ws:
        await ws.until("request_user_input")
        await ws.send({"type": "user_input", "values": EMAIL})
        await ws.until("attempt_failed")
        await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": False})
        end = await ws.until("task_failed")
    assert end["can_retry"] is False and end["attempt"] == 1
    assert [m["type"] for m in ws.received].count("task_failed") == 1


async def test_running_out_of_attempts_fails(client: httpx.AsyncClient, server: LiveServer) -> None:
    sid = await start_demo(client, fail_attempts=5, max_attempts=2)
    async with await WS.open(server.ws_url, sid) as ws:
        await ws.until("request_user_input")
        await ws.send({"type": "user_input", "values": EMAIL})
        await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": True})
        end = await ws.until("task_failed")
    assert end["can_retry"] is False and end["attempt"] == 2
    assert [m["type"] for m in ws.received].count("attempt_failed") == 2


async def test_dummy_parameters_override_defaults(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    r = await client.post(
        "/tasks", json={"task_type": "dummy_long", "parameters": {"duration": 0.02, "steps": 4}}
    )
    sid = r.json()["task_id"]
    async with await WS.open(server.ws_url, sid) as ws:
        done = await ws.until("task_completed")
        progress = [m["progress"] for m in ws.received if m["type"] == "progress"]
    assert progress == [25, 50, 75, 100]
    assert done["result"]["steps"] == 4
