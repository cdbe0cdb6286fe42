"""Webhook events reach a real HTTP receiver on loopback: signed, in order, retried."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from datetime import UTC, datetime
from pathlib import Path

import httpx

from interlock.journal import Journal
from interlock.lifecycle import LifecycleEvent
from interlock.sessions import Session
from interlock.store import MemoryStore, TaskRecord
from interlock.webhooks import WebhookSender, verify
from tests.support.receiver import Received, receiving
from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS

SECRET = "s3cret-for-tests"


def signature_of(body: bytes, secret: str = SECRET) -> str:
    """What a receiver computes, written out here from the documented rule."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def events(requests: list[Received]) -> list[str]:
    return [r.json()["event"] for r in requests if r.status == 200]


async def test_a_prompted_task_sends_four_signed_events_in_order_after_a_failed_try(
    tmp_path: Path,
) -> None:
    with (
        receiving(fail_first=1) as receiver,
        run_server(
            tmp_path / "data",
            registry=make_registry(),
            webhook_url=f"{receiver.url}/hooks/interlock",
            webhook_secret=SECRET,
            public_url="https://lab.example.org/",
        ) as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            created = await http.post(
                "/tasks", json={"task_type": "confirm_once", "parameters": {"prompt": "Go?"}}
            )
            task_id = created.json()["task_id"]
            async with await WS.open(server.ws_url, task_id) as ws:
                request = await ws.until("request_confirmation")
                answered = await http.post(
                    f"/tasks/{task_id}/answer",
                    json={"request_id": request["request_id"], "value": True},
                )
                assert answered.status_code == 200, answered.text
                await ws.until("task_completed")
        got = await asyncio.to_thread(receiver.wait_for, lambda rs: len(events(rs)) == 4)

    assert events(got) == ["task.started", "request.opened", "request.resolved", "task.finished"]
    # The first try was refused (500) and retried: same event, same delivery id.
    assert got[0].status == 500 and got[1].status == 200
    assert got[0].body == got[1].body
    assert got[0].headers["x-interlock-delivery"] == got[1].headers["x-interlock-delivery"]
    delivered = [r for r in got if r.status == 200]
    for r in delivered:
        assert r.path == "/hooks/interlock"
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-interlock-signature"] == signature_of(r.body)
        assert r.headers["x-interlock-event"] == r.json()["event"]
        body = r.json()
        assert body["id"] == r.headers["x-interlock-delivery"]
        assert body["task"]["task_id"] == task_id
        assert body["task"]["task_type"] == "confirm_once"
        assert body["task"]["url"] == f"https://lab.example.org/sessions/{task_id}"
    assert len({r.headers["x-interlock-delivery"] for r in delivered}) == 4
    opened, resolved, finished = (r.json()["message"] for r in delivered[1:])
    assert opened["type"] == "request_confirmation" and opened["prompt"] == "Go?"
    assert resolved["type"] == "request_resolved" and resolved["value"] is True
    assert resolved["request_id"] == opened["request_id"] == request["request_id"]
    assert finished["type"] == "task_completed" and finished["result"] == {"answer": True}
    seqs = [r.json()["message"]["seq"] for r in delivered]
    assert seqs == sorted(seqs)


def test_a_signature_verifies_only_the_body_it_was_made_for() -> None:
    body = b'{"event":"task.started"}'
    header = signature_of(body)
    assert verify(SECRET.encode(), body, header)
    assert not verify(SECRET.encode(), body + b" ", header)
    assert not verify(b"another secret", body, header)
    assert not verify(SECRET.encode(), body, None)


async def test_a_failed_task_is_finished_and_without_a_secret_events_are_unsigned(
    tmp_path: Path,
) -> None:
    with (
        receiving() as receiver,
        run_server(tmp_path / "data", registry=make_registry(), webhook_url=receiver.url) as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            created = await http.post("/tasks", json={"task_type": "explode"})
            task_id = created.json()["task_id"]
        got = await asyncio.to_thread(receiver.wait_for, lambda rs: len(events(rs)) == 2)
    assert events(got) == ["task.started", "task.finished"]
    finished = got[1].json()
    assert finished["task"]["task_id"] == task_id and finished["task"]["url"] is None
    assert finished["message"]["type"] == "task_failed"
    assert "RuntimeError: boom" in finished["message"]["error"]
    assert all("x-interlock-signature" not in r.headers for r in got)


async def test_a_receiver_that_is_down_never_holds_a_task(tmp_path: Path) -> None:
    """Nothing listens at the URL: every try fails, and the task runs to its end anyway."""
    with receiving() as closed:
        url = closed.url
    with run_server(tmp_path / "data", registry=make_registry(), webhook_url=url) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            created = await http.post("/tasks", json={"task_type": "chatty", "parameters": {}})
            task_id = created.json()["task_id"]
            async with await WS.open(server.ws_url, task_id) as ws:
                await ws.until("task_completed")


async def test_the_queue_is_bounded_and_drops_new_events_while_the_receiver_fails() -> None:
    """One event is being retried (its receiver answers 500); two wait; more are dropped,
    and each call returns at once."""
    with receiving(fail_first=1_000) as receiver:
        sender = WebhookSender(receiver.url, SECRET, None, queue_size=2)
        journal = Journal(MemoryStore(), lambda session, seq, type_, data: None)
        record = TaskRecord("t-1", "confirm_once", {}, "running", datetime.now(UTC))
        session = Session(record, journal, history_size=10)
        sender.start()
        try:

            def event(seq: int) -> LifecycleEvent:
                message = {"seq": seq, "ts": "", "type": "status", "status": "running"}
                return LifecycleEvent("task.started", session, message)

            sender.observe(event(1))
            await asyncio.to_thread(receiver.wait_for, lambda rs: len(rs) >= 1)  # in backoff
            for seq in (2, 3, 4, 5):
                sender.observe(event(seq))
            assert sender.dropped == 2
        finally:
            await sender.aclose(0.5)
