"""interlock attach and watch in a real terminal (tmux): stream, progress, form, hazard."""

from __future__ import annotations

import shlex
import shutil
import sys
from collections.abc import Iterator

import httpx
import pytest

from tests.support.server import LiveServer
from tests.support.tmux import Pane

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")


@pytest.fixture
def attach(server: LiveServer) -> Iterator[object]:
    panes: list[Pane] = []

    def run(task_id: str) -> Pane:
        command = shlex.join(
            [sys.executable, "-m", "interlock", "attach", task_id, "--url", server.url]
        )
        pane = Pane(f'{command}; echo "exit status $?"; sleep 60')
        panes.append(pane)
        return pane

    yield run
    for pane in panes:
        pane.close()


def start(server: LiveServer, task_type: str, **params: object) -> str:
    r = httpx.post(f"{server.url}/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


def test_attach_answers_a_form_and_confirmations(server: LiveServer, attach: object) -> None:
    task_id = start(server, "interactive_demo", stream_count=2, delay=0)
    pane = attach(task_id)  # type: ignore[operator]
    pane.wait_for("subject (Subject of the email):")
    pane.wait_for("Processing email step 2/2...")
    pane.wait_for("40%")  # the progress toolbar (redrawn after the prompt shows)
    pane.type("Run 7", "Enter")
    pane.wait_for("body (Body of the email):")
    pane.type("Done.", "Enter")
    pane.wait_for("to_address (Recipient email address):")
    pane.type("nobody", "Enter")
    pane.wait_for("to_address: value is not a valid email address")
    pane.wait_for("to_address (Recipient email address):", after=1)
    pane.type("C-u", "lab@example.com", "Enter")
    pane.wait_for("Yes or No? [Y/n]")
    pane.wait_for("Retry?")
    pane.type("y", "Enter")
    pane.wait_for("Yes or No? [Y/n]", after=1)
    pane.wait_for("Send e-mail to lab@example.com?")
    pane.type("Enter")  # not a hazard: Enter is Yes, as in the console
    screen = pane.wait_for("exit status 0")
    assert 'completed: {"sent": true, "attempts": 2}' in screen
    task = httpx.get(f"{server.url}/tasks/{task_id}").json()
    assert task["status"] == "completed"


def test_a_hazard_prompt_warns_and_defaults_to_no(server: LiveServer, attach: object) -> None:
    task_id = start(server, "confirm_once", kind="hazard", prompt="Move x by 5 um?")
    pane = attach(task_id)  # type: ignore[operator]
    pane.wait_for("[y/N]")
    pane.wait_for("⚠ Hazard: hardware will move")
    pane.wait_for("Move x by 5 um?")
    pane.wait_for("axis: x")  # the details
    pane.type("Enter")  # Enter alone: the default, No
    screen = pane.wait_for("exit status 0")
    assert "answered No" in screen
    requests = httpx.get(f"{server.url}/tasks/{task_id}/requests").json()
    assert [r["answer"] for r in requests] == [False]
    assert httpx.get(f"{server.url}/tasks/{task_id}").json()["result"] == {"answer": False}


def test_attach_exits_with_the_tasks_status(server: LiveServer, attach: object) -> None:
    task_id = start(server, "block")
    pane = attach(task_id)  # type: ignore[operator]
    pane.wait_for("blocking")
    pane.wait_for("interlock>")
    pane.type("cancel", "Enter")
    pane.wait_for("Cancel the task? [y/N]")
    pane.type("y", "Enter")
    screen = pane.wait_for("exit status 3")
    assert "cancelled" in screen


def test_attach_asks_only_the_open_prompt(server: LiveServer, attach: object) -> None:
    """Prompts answered before it attached are history, not questions."""
    from interlock.client import Client, RequestConfirmation, RequestUserInput

    with Client(server.url) as client:
        session = client.start("interactive_demo", stream_count=0, fail_attempts=1)
        for event in session.events():
            if isinstance(event, RequestUserInput):
                event.respond(subject="s", body="b", to_address="lab@example.com")
            elif isinstance(event, RequestConfirmation):
                break  # the retry prompt is open
    pane = attach(session.id)  # type: ignore[operator]
    pane.wait_for("Yes or No? [Y/n]")
    pane.wait_for("Retry?")
    pane.type("n", "Enter")
    screen = pane.wait_for("exit status 1")  # no retry: the task failed
    assert "failed: Simulated sending failure" in screen
    assert "subject (" not in screen  # the answered form was not asked again


def test_watch_shows_a_live_progress_bar(server: LiveServer) -> None:
    task_id = start(server, "interactive_demo", stream_count=2, delay=0)
    command = shlex.join([sys.executable, "-m", "interlock", "watch", task_id])
    pane = Pane(f'INTERLOCK_URL={server.url} {command}; echo "exit status $?"; sleep 60')
    try:
        pane.wait_for("40%")  # the bar, redrawn in place at the form
        pane.wait_for("━")
        pane.wait_for(f"interlock answer {task_id} --field subject=…")
        r = httpx.delete(f"{server.url}/tasks/{task_id}")
        assert r.status_code == 200, r.text
        screen = pane.wait_for("exit status 3")
        assert screen.count("40%") == 1  # one bar, not a line per update
    finally:
        pane.close()
