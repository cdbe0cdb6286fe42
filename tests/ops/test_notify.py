"""Notifications through Apprise, to a real HTTP receiver on loopback (apprise's json://)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest

from interlock.app import create_app
from interlock.notify import InvalidNotifyURL
from interlock.settings import Settings
from tests.support.receiver import receiving
from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


async def test_a_prompt_left_unanswered_is_notified_with_task_prompt_who_and_link(
    tmp_path: Path,
) -> None:
    with (
        receiving() as receiver,
        run_server(
            tmp_path / "data",
            registry=make_registry(),
            notify_urls=f"json://127.0.0.1:{receiver.port}/notify",
            notify_after=0.2,
            public_url="https://lab.example.org",
        ) as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            created = await http.post(
                "/tasks",
                json={"task_type": "confirm_once", "parameters": {"prompt": "Open the valve?"}},
            )
            task_id = created.json()["task_id"]
            got = await asyncio.to_thread(receiver.wait_for, lambda rs: len(rs) == 1)
            async with await WS.open(server.ws_url, task_id) as ws:
                request = await ws.until("request_confirmation")
                await http.post(
                    f"/tasks/{task_id}/answer",
                    json={"request_id": request["request_id"], "value": False},
                )
                await ws.until("task_completed")
    assert got[0].path == "/notify"
    sent = got[0].json()
    assert "confirm_once" in sent["title"]
    body = sent["message"]
    assert f"Task: confirm_once ({task_id})" in body
    assert "Prompt: Open the valve?" in body
    assert "Who may answer: anyone who can reach the server (authentication is off)" in body
    assert f"Open: https://lab.example.org/sessions/{task_id}" in body
    assert len(receiver.requests) == 1  # answered: nothing more


async def test_a_failed_task_and_an_interrupted_one_are_notified(tmp_path: Path) -> None:
    with receiving() as receiver:
        with run_server(
            tmp_path / "data",
            registry=make_registry(),
            notify_urls=f"json://127.0.0.1:{receiver.port}/n",
            max_concurrent=2,
        ) as server:
            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                failed = (await http.post("/tasks", json={"task_type": "explode"})).json()
                got = await asyncio.to_thread(receiver.wait_for, lambda rs: len(rs) == 1)
                assert "explode failed" in got[0].json()["title"]
                assert f"Task: explode ({failed['task_id']})" in got[0].json()["message"]
                assert "Error: RuntimeError: boom" in got[0].json()["message"]
                blocked = (await http.post("/tasks", json={"task_type": "block"})).json()
                async with await WS.open(server.ws_url, blocked["task_id"]) as ws:
                    await ws.until("status")
        # The server stopped with the task running: it ended interrupted, and was told.
        got = await asyncio.to_thread(receiver.wait_for, lambda rs: len(rs) == 2)
    interrupted = got[1].json()
    assert "block was interrupted" in interrupted["title"]
    assert "Reason: server shutdown" in interrupted["message"]


async def test_a_target_that_fails_is_logged_and_the_task_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="interlock.notify")
    with receiving() as closed:
        port = closed.port  # nothing listens there any more
    with run_server(
        tmp_path / "data", registry=make_registry(), notify_urls=f"json://127.0.0.1:{port}/n"
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            task_id = (await http.post("/tasks", json={"task_type": "explode"})).json()["task_id"]
            async with await WS.open(server.ws_url, task_id) as ws:
                await ws.until("task_failed")
    # The shutdown waits for notifications being sent: the failure is logged by now.
    refused = [r for r in caplog.records if r.name == "interlock.notify"]
    assert refused and "refused" in refused[0].getMessage()


def test_an_unknown_notification_url_stops_the_server_from_starting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, notify_urls="json://ok.example/x nosuchscheme://y")
    with pytest.raises(InvalidNotifyURL, match="nosuchscheme://y"):
        create_app(settings)
