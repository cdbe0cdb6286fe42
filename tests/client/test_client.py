"""interlock.client against a real server: sessions, answers, outcomes, errors, resumes."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from interlock import protocol as p
from interlock.auth import Role
from interlock.client import (
    AnswerRefused,
    AsyncClient,
    AuthenticationFailed,
    Client,
    ConnectionLost,
    Forbidden,
    NotFound,
    RequestConfirmation,
    RequestRefused,
    RequestUserInput,
    TaskCancelled,
    TaskFailed,
    TaskInterrupted,
    ValidationFailed,
)
from tests.support.auth import seed
from tests.support.older_server import drop_log_route
from tests.support.proxy import Proxy
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry, open_gate

EMAIL = {"subject": "Run 7", "body": "Done.", "to_address": "lab@example.com"}


async def drive(session: Any) -> list[p.SessionMessage]:
    """Answer every prompt yes (forms with EMAIL) and collect the events."""
    seen = []
    async for event in session.events():
        seen.append(event)
        if isinstance(event, RequestUserInput):
            await event.respond(EMAIL)
        elif isinstance(event, RequestConfirmation):
            await event.respond(True)
    return seen


def seqs_are_whole(events: list[p.SessionMessage]) -> None:
    assert [e.seq for e in events] == list(range(1, len(events) + 1))


async def test_interactive_demo_runs_to_completion(server: LiveServer) -> None:
    async with AsyncClient(server.url) as client:
        assert "interactive_demo" in {t.name for t in await client.task_types()}
        session = await client.start("interactive_demo", stream_count=3, delay=0)
        events = await drive(session)
        assert await session.wait() == {"sent": True, "attempts": 2}
        seqs_are_whole(events)
        assert type(events[-1]) is p.TaskCompleted
        streamed = [e.content for e in events if isinstance(e, p.Stream)]
        assert streamed == [f"Processing email step {i}/3..." for i in (1, 2, 3)]
        assert any(isinstance(e, p.AttemptFailed) for e in events)
        record = await client.get(session.id)
        assert record.status == "completed"
        assert [t.task_id for t in await client.tasks(status="completed")] == [session.id]
        assert await client.tasks(status="running") == []


async def test_confirm_and_submit_by_request_id(server: LiveServer) -> None:
    async with AsyncClient(server.url) as client:
        session = await client.start("interactive_demo", stream_count=0, fail_attempts=0)
        async for event in session.events():
            if isinstance(event, RequestUserInput):
                await session.submit(event.request_id, EMAIL)
            elif isinstance(event, RequestConfirmation):
                await session.confirm(event.request_id, False)  # "Send?" No: declined
        with pytest.raises(TaskCancelled) as ended:
            await session.wait()
        assert ended.value.reason == "declined"
        assert isinstance(ended.value.event, p.TaskCancelled)


async def test_validation_errors_name_each_field(server: LiveServer) -> None:
    async with AsyncClient(server.url) as client:
        with pytest.raises(ValidationFailed) as bad_start:
            await client.start("interactive_demo", stream_count="many", delay=-1)
        assert {e.field for e in bad_start.value.errors} == {"stream_count", "delay"}
        with pytest.raises(ValidationFailed) as unknown:
            await client.start("no_such_type")
        assert [e.field for e in unknown.value.errors] == ["task_type"]

        session = await client.start("interactive_demo", stream_count=0, fail_attempts=0)
        async for event in session.events():
            if isinstance(event, RequestUserInput):
                with pytest.raises(ValidationFailed) as bad_form:
                    await event.respond(EMAIL, to_address="not an address")
                assert [e.field for e in bad_form.value.errors] == ["to_address"]
                assert bad_form.value.status == 422
                await event.respond(EMAIL)  # the request stayed open
            elif isinstance(event, RequestConfirmation):
                await event.respond(True)
                with pytest.raises(AnswerRefused) as again:
                    await event.respond(True)
                assert again.value.code == "already_answered"
        assert await session.wait() == {"sent": True, "attempts": 1}


async def test_wait_raises_failed_and_cancelled(server: LiveServer) -> None:
    async with AsyncClient(server.url) as client:
        exploding = await client.start("explode")
        with pytest.raises(TaskFailed) as failed:
            await exploding.wait()
        assert "boom" in failed.value.error

        blocked = await client.start("block")
        async for event in blocked.events():
            if isinstance(event, p.Stream):
                break  # it is running
        cancelled = await client.cancel(blocked.id)
        assert cancelled.status.value == "cancelled"
        with pytest.raises(TaskCancelled):
            await blocked.wait()
        with pytest.raises(RequestRefused) as twice:
            await client.cancel(blocked.id)
        assert twice.value.status == 400
        with pytest.raises(NotFound):
            await client.get("nope")
        with pytest.raises(NotFound):
            await anext(client.session("nope").events())


async def test_wait_raises_interrupted_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with run_server(data, registry=make_registry()) as first:
        async with AsyncClient(first.url) as client:
            session = await client.start("block")
            async for event in session.events():
                if isinstance(event, p.Stream):
                    break
    with run_server(data, registry=make_registry()) as second:
        async with AsyncClient(second.url) as client:
            with pytest.raises(TaskInterrupted) as ended:
                await client.session(session.id).wait()
            assert ended.value.reason in {"server shutdown", "server restarted"}


@pytest.fixture
def roomy_server(tmp_path: Path) -> Any:
    with run_server(tmp_path / "data", registry=make_registry(), history_size=1000) as live:
        yield live


async def test_a_cut_connection_resumes_without_gap_or_duplicate(roomy_server: LiveServer) -> None:
    """The link drops three times mid-stream, while the task keeps streaming."""
    gate = uuid.uuid4().hex
    proxy = Proxy(roomy_server.port)
    async with proxy.running(), AsyncClient(proxy.url, reconnect_timeout=20) as client:
        session = await client.start("paced_big", gate=gate, count=40, burst=8, size=64)
        events: list[p.SessionMessage] = []
        streamed = 0
        async for event in session.events():
            events.append(event)
            if isinstance(event, p.Stream):
                streamed += 1
                if streamed in (8, 16, 24):
                    # Everything emitted so far is read: the cut hits the live link,
                    # and the next burst goes out while the client reconnects.
                    proxy.cut()
                    open_gate(roomy_server, gate)
                elif streamed == 32:
                    open_gate(roomy_server, gate)
            elif isinstance(event, p.Status) and event.status == "running":
                open_gate(roomy_server, gate)
        assert await session.wait() == {"lines": 40}
    seqs_are_whole(events)
    assert streamed == 40
    assert proxy.connections == 1 + 4  # start()'s, then the stream's first and three more


async def test_events_give_up_after_reconnect_timeout(server: LiveServer) -> None:
    proxy = Proxy(server.port)
    async with proxy.running(), AsyncClient(proxy.url, reconnect_timeout=0.3) as client:
        session = await client.start("block")
        proxy.target_port = 1  # nothing listens there: every reconnect fails
        with pytest.raises(ConnectionLost):
            async for event in session.events():
                if isinstance(event, p.Stream):
                    proxy.cut()
        async with AsyncClient(server.url) as direct:
            await direct.cancel(session.id)


async def test_tokens_are_sent_on_rest_and_websocket(tmp_path: Path) -> None:
    people = await seed(tmp_path / "data")
    with run_server(people.data_dir, registry=make_registry(), auth=True) as live:
        async with AsyncClient(live.url, token=people.tokens[Role.OPERATOR]) as client:
            session = await client.start("confirm_once")
            async for event in session.events():
                if isinstance(event, RequestConfirmation):
                    await event.respond(True)
                if isinstance(event, p.RequestResolved):
                    assert event.answered_by is not None
                    assert event.answered_by.user == "otto"
            assert await session.wait() == {"answer": True}
        async with AsyncClient(live.url) as anonymous:
            with pytest.raises(AuthenticationFailed):
                await anonymous.tasks()
            with pytest.raises(AuthenticationFailed):
                await anext(anonymous.session(session.id).events())
        async with AsyncClient(live.url, token=people.tokens[Role.VIEWER]) as viewer:
            assert [t.task_id for t in await viewer.tasks()] == [session.id]
            with pytest.raises(Forbidden):
                await viewer.start("confirm_once")


async def test_the_log_falls_back_to_the_replay_without_the_log_route(
    server: LiveServer,
) -> None:
    """A server without ``GET /tasks/{id}/messages`` (older, or this branch): the log is
    what the WebSocket replay holds."""
    drop_log_route(server)
    async with AsyncClient(server.url) as client:
        session = await client.start("chatty", count=5)
        result = await session.wait()
        log = [event async for event in client.log(session.id)]
        seqs_are_whole(log)
        assert [e.content for e in log if isinstance(e, p.Stream)] == [
            f"line {i}" for i in range(1, 6)
        ]
        assert isinstance(log[-1], p.TaskCompleted) and log[-1].result == result
        assert [e.seq async for e in client.log(session.id, after_seq=3)] == list(
            range(4, len(log) + 1)
        )


def test_the_sync_client_has_the_same_methods(server: LiveServer) -> None:
    with Client(server.url) as client:
        assert "confirm_once" in {t.name for t in client.task_types()}
        session = client.start("confirm_once", prompt="Go?")
        kinds = []
        for event in session.events():
            kinds.append(type(event).__name__)
            if isinstance(event, RequestConfirmation):
                assert event.prompt == "Go?"
                event.respond(False)
        assert session.wait() == {"answer": False}
        assert kinds[-1] == "TaskCompleted"
        assert client.get(session.id).status == "completed"
        assert [t.task_id for t in client.tasks(status="completed")] == [session.id]

        blocked = client.start("block")
        for event in blocked.events():
            if isinstance(event, p.Stream):
                break
        client.cancel(blocked.id)
        with pytest.raises(TaskCancelled):
            blocked.wait()
        with pytest.raises(ValidationFailed) as bad:
            client.start("confirm_once", before="x")
        assert [e.field for e in bad.value.errors] == ["before"]


async def test_requests_seen_twice_are_answered_once(server: LiveServer) -> None:
    """Two clients watch one prompt; the first answer wins, the second is refused."""
    async with AsyncClient(server.url) as one, AsyncClient(server.url) as two:
        session = await one.start("confirm_once")
        other = two.session(session.id)

        async def first_request(s: Any) -> Any:
            async for event in s.events():
                if isinstance(event, RequestConfirmation):
                    return event
            raise AssertionError("no request")

        a, b = await asyncio.gather(first_request(session), first_request(other))
        await a.respond(True)
        with pytest.raises(AnswerRefused):
            await b.respond(False)
        assert await other.wait() == {"answer": True}
