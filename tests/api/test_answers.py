"""An answer applies only to the prompt its sender saw, and acts only once it is stored."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.faults import locked_database
from tests.support.server import LiveServer, run_server
from tests.support.tasks import GATES, make_registry
from tests.support.ws import WS


async def start(client: httpx.AsyncClient, task_type: str, **params: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def test_a_hazard_prompt_is_answered_only_with_its_request_id(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start(client, "confirm_once", kind="hazard")
    async with await WS.open(server.ws_url, sid) as ws:
        prompt = await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": True})
        error = await ws.until("error")
        assert error["code"] == "validation_error"
        assert error["errors"][0]["field"] == "request_id"
        assert (await client.get(f"/tasks/{sid}")).json()["status"] == "waiting"
        await ws.send({"type": "confirm", "value": True, "request_id": prompt["request_id"]})
        done = await ws.until("task_completed")
    assert done["result"] == {"answer": True}


async def test_two_quick_yes_without_request_id_never_answer_the_next_hazard_prompt(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start(client, "two_hazards")
    async with await WS.open(server.ws_url, sid) as ws:
        first = await ws.until("request_confirmation")
        await ws.send({"type": "confirm", "value": True, "request_id": first["request_id"]})
        # A double click from a client that does not send ids: both are refused.
        await ws.send({"type": "confirm", "value": True})
        await ws.send({"type": "confirm", "value": True})
        prompts: list[dict[str, Any]] = []
        codes: list[str] = []
        async with asyncio.timeout(10):
            while not (prompts and len(codes) == 2):
                msg = await ws.recv()
                if msg["type"] == "request_confirmation":
                    prompts.append(msg)
                elif msg["type"] == "error":
                    codes.append(msg["code"])
        (second,) = prompts
        assert second["prompt"] == "Move z to the signal peak?"
        # Refused before the second prompt was out (the first was answered, or the second
        # not stored yet), or after (a hazard prompt needs its id): never a Yes to it.
        assert set(codes) <= {"already_answered", "no_pending_request", "validation_error"}
        task = (await client.get(f"/tasks/{sid}")).json()
        assert task["status"] == "waiting"
        assert task["pending_request"]["request_id"] == second["request_id"]


@pytest.mark.parametrize("value", ["yes", 1, "on", "true", 0, None, "1", [True], {"v": True}])
async def test_a_confirmation_value_is_a_json_boolean_only(
    client: httpx.AsyncClient, server: LiveServer, value: Any
) -> None:
    sid = await start(client, "confirm_once")
    async with await WS.open(server.ws_url, sid) as ws:
        prompt = await ws.until("request_confirmation")
        rid = prompt["request_id"]
        await ws.send({"type": "confirm", "value": value, "request_id": rid})
        assert (await ws.until("error"))["code"] == "validation_error"
        r = await client.post(f"/tasks/{sid}/answer", json={"request_id": rid, "value": value})
        assert r.status_code == 422, r.text
        assert (await client.get(f"/tasks/{sid}")).json()["status"] == "waiting"
        await ws.send({"type": "confirm", "value": False, "request_id": rid})
        done = await ws.until("task_completed")
    assert done["result"] == {"answer": False}


async def test_an_http_answer_always_names_its_request(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start(client, "confirm_once")
    async with await WS.open(server.ws_url, sid) as ws:
        await ws.until("request_confirmation")
        r = await client.post(f"/tasks/{sid}/answer", json={"value": True})
        assert r.status_code == 422
        assert ["body", "request_id"] in [e["loc"] for e in r.json()["detail"]]
        assert (await client.get(f"/tasks/{sid}")).json()["status"] == "waiting"


async def test_answers_after_an_accepted_cancel_are_refused_and_not_recorded(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start(client, "confirm_once", kind="hazard")
    async with await WS.open(server.ws_url, sid) as ws:
        prompt = await ws.until("request_confirmation")
        await ws.send({"type": "cancel"})
        await ws.send({"type": "confirm", "value": True, "request_id": prompt["request_id"]})
        # The refusal is a reply, task_cancelled a session message: either may come first.
        got = await ws.until_all("error", "task_cancelled")
        assert got["error"]["code"] == "task_not_active"
    r = await client.post(
        f"/tasks/{sid}/answer", json={"request_id": prompt["request_id"], "value": True}
    )
    assert r.status_code == 409 and r.json()["code"] == "task_not_active"
    (request,) = (await client.get(f"/tasks/{sid}/requests")).json()
    assert request["status"] == "cancelled"
    assert request["answer"] is None and request["answered_by"] is None


def open_gate(server: LiveServer, name: str) -> None:
    server.call(lambda: GATES.setdefault(name, asyncio.Event()).set())


@pytest.fixture
def fast_store_server(tmp_path: Path) -> Iterator[LiveServer]:
    """A server that gives up on a locked database after a second."""
    with run_server(tmp_path / "data", registry=make_registry(), store_timeout=1.0) as live:
        yield live


async def test_an_answer_while_the_store_fails_is_refused_and_nothing_acts(
    fast_store_server: LiveServer,
) -> None:
    server = fast_store_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        sid = await start(client, "confirm_once", kind="hazard")
        async with await WS.open(server.ws_url, sid) as ws:
            prompt = await ws.until("request_confirmation")
            rid = prompt["request_id"]
            with locked_database(server.settings.database_path):
                await ws.send({"type": "confirm", "value": True, "request_id": rid})
                error = await ws.until("error")
                assert error["code"] == "store_unavailable"
                health = await client.get("/health")
                assert health.status_code == 503
                assert health.json()["status"] == "degraded" and health.json()["reason"]
                r = await client.post(
                    f"/tasks/{sid}/answer", json={"request_id": rid, "value": True}
                )
                assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
                task = (await client.get(f"/tasks/{sid}")).json()
                assert task["status"] == "waiting"  # the task did not act
            async with asyncio.timeout(10):
                while (await client.get("/health")).status_code != 200:
                    await asyncio.sleep(0.05)
            await ws.send({"type": "confirm", "value": False, "request_id": rid})
            done = await ws.until("task_completed")
        assert done["result"] == {"answer": False}
        (request,) = (await client.get(f"/tasks/{sid}/requests")).json()
        assert request["answer"] is False and request["status"] == "answered"


async def test_a_task_is_not_accepted_while_the_store_fails(
    fast_store_server: LiveServer,
) -> None:
    server = fast_store_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        with locked_database(server.settings.database_path):
            r = await client.post("/tasks", json={"task_type": "confirm_once"})
            assert r.status_code == 503, r.text
            assert r.json()["code"] == "store_unavailable"
        async with asyncio.timeout(10):
            while (await client.get("/health")).status_code != 200:
                await asyncio.sleep(0.05)
        assert (await client.get("/tasks")).json() == []
        assert server.manager.active == {} and server.manager.queue == []


async def test_a_prompt_is_neither_shown_nor_answerable_before_it_is_stored(
    fast_store_server: LiveServer,
) -> None:
    server = fast_store_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        sid = await start(client, "gated_confirm", gate=f"unstored-{id(server)}")
        async with await WS.open(server.ws_url, sid) as ws:
            await ws.until("stream")
            with locked_database(server.settings.database_path):
                open_gate(server, f"unstored-{id(server)}")
                async with asyncio.timeout(10):
                    while server.manager.health() is None:  # the prompt's batch was refused
                        await asyncio.sleep(0.02)
                task = (await client.get(f"/tasks/{sid}")).json()
                assert task["pending_request"] is None
                async with await WS.open(server.ws_url, sid) as late:
                    start_msg, replayed, _ = await late.replay()
                assert start_msg["pending_request_id"] is None
                assert "request_confirmation" not in [m["type"] for m in replayed]
                await ws.send({"type": "confirm", "value": True})
                got = await ws.until("error")
                assert got["code"] in ("no_pending_request", "store_unavailable"), got
            prompt = await ws.until("request_confirmation")  # shown once it is stored
            await ws.send({"type": "confirm", "value": True, "request_id": prompt["request_id"]})
            done = await ws.until("task_completed")
    assert done["result"] == {"answer": True}


async def test_the_queue_is_bounded(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", registry=make_registry(), max_queued=2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            await start(client, "hold")
            for _ in range(2):
                r = await client.post("/tasks", json={"task_type": "hold", "queue": True})
                assert r.status_code == 202 and r.json()["status"] == "queued"
            r = await client.post("/tasks", json={"task_type": "hold", "queue": True})
            assert r.status_code == 429
            assert r.json() == {"detail": "Queue is full (2 tasks)"}
            assert len((await client.get("/tasks")).json()) == 3


async def test_delete_says_504_when_the_task_does_not_stop_in_time(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", registry=make_registry(), cancel_timeout=0.2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            sid = await start(client, "block", cleanup=2.0)  # a slow finally
            async with await WS.open(server.ws_url, sid) as ws:
                await ws.until("stream")
                r = await client.delete(f"/tasks/{sid}")
                assert r.status_code == 504
                assert r.json() == {"detail": "Task did not stop within 0.2 s"}
                await ws.until("task_cancelled")
            r = await client.delete(f"/tasks/{sid}")
            assert r.status_code == 400


async def test_finished_sessions_nobody_watches_are_evicted(tmp_path: Path) -> None:
    with run_server(tmp_path / "data", registry=make_registry(), finished_cache=2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            watched = await start(client, "chatty", count=1)
            async with await WS.open(server.ws_url, watched) as tab:
                await tab.until("task_completed")
                done = []
                for _ in range(4):
                    sid = await start(client, "chatty", count=1)
                    async with await WS.open(server.ws_url, sid) as ws:
                        await ws.until("task_completed")
                    done.append(sid)
                held = set(server.manager.sessions)
                assert watched in held  # a tab still watches it
                assert not set(done[:2]) & held
            # Evicted ones come back from the store, whole.
            r = await client.get(f"/tasks/{done[0]}")
            assert r.status_code == 200 and r.json()["status"] == "completed"
