"""interlock tasks|answer|watch|logs against a real server: output and exit statuses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from interlock.auth import Role
from interlock.cli import main
from tests.support.auth import seed
from tests.support.older_server import drop_log_route
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry


def interlock(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``interlock argv…`` in this process: (exit status, stdout, stderr)."""
    with pytest.raises(SystemExit) as ended:
        main(list(argv))
    out, err = capsys.readouterr()
    code = ended.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_tasks_start_list_show_cancel(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", server.url)
    code, out, _ = interlock(capsys, "tasks", "start", "block", "seconds=30", *url)
    assert code == 0
    task_id = out.strip()
    assert httpx.get(f"{server.url}/tasks/{task_id}").json()["parameters"]["seconds"] == 30
    code, out, _ = interlock(capsys, "tasks", "list", "--json", *url)
    assert code == 0 and task_id in out
    code, out, _ = interlock(capsys, "tasks", "show", task_id, *url)
    assert code == 0 and "block" in out and task_id in out
    code, out, _ = interlock(capsys, "tasks", "cancel", task_id, *url)
    assert code == 0 and "cancelled" in out
    code, out, _ = interlock(capsys, "tasks", "list", "--status", "cancelled", *url)
    assert task_id[:8] in out
    code, _, err = interlock(capsys, "tasks", "cancel", task_id, *url)
    assert code == 1 and "cannot be cancelled" in err
    code, _, err = interlock(capsys, "tasks", "show", "nope", *url)
    assert code == 1 and "not found" in err.lower()


def test_usage_errors_exit_2(server: LiveServer, capsys: pytest.CaptureFixture[str]) -> None:
    url = ("--url", server.url)
    assert interlock(capsys, "tasks", "start", "block", "seconds", *url)[0] == 2
    code, _, err = interlock(capsys, "tasks", "start", "interactive_demo", "delay=-1", *url)
    assert code == 2 and "delay" in err
    assert interlock(capsys, "tasks", "frobnicate", *url)[0] == 2
    assert interlock(capsys, "answer", "x", "--yes", "--no", *url)[0] == 2


def test_answer_a_form_and_confirmations(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", server.url)
    _, out, _ = interlock(
        capsys, "tasks", "start", "interactive_demo", "stream_count=0", "fail_attempts=0", *url
    )
    task_id = out.strip()
    ask = ("answer", task_id, *url)
    _wait_for_request(server, task_id)
    code, _, err = interlock(capsys, *ask, "--yes")
    assert code == 2 and "is a form" in err
    fields = ("--field", "subject=42", "--field", "body=Done.")
    code, _, err = interlock(capsys, *ask, *fields, "--field", "to_address=nobody")
    assert code == 2 and "to_address" in err
    code, out, _ = interlock(capsys, *ask, *fields, "--field", "to_address=lab@example.com")
    assert code == 0, out
    _wait_for_request(server, task_id, kind="request_confirmation")
    code, _, err = interlock(capsys, *ask, "--field", "a=b")
    assert code == 2 and "confirmation" in err
    code, out, _ = interlock(capsys, *ask, "--no")
    assert code == 0 and "answered No" in out
    code, out, _ = interlock(capsys, "watch", task_id, *url)
    assert code == 3  # declined: cancelled
    assert "cancelled: declined" in out
    requests = httpx.get(f"{server.url}/tasks/{task_id}/requests").json()
    assert requests[0]["answer"]["subject"] == "42"  # a text field keeps its text
    code, out, _ = interlock(capsys, *ask, "--yes")
    assert code == 1 and "no open request" in out


def _wait_for_request(server: LiveServer, task_id: str, kind: str = "request_user_input") -> None:
    """Read the task's WebSocket (through the client) until ``kind`` opens."""
    from interlock.client import Client

    with Client(server.url) as client:
        for event in client.session(task_id).events():
            if event.model_dump()["type"] == kind:
                return
    raise AssertionError(f"no {kind}")


def test_watch_exits_with_the_tasks_status(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", server.url)
    code, out, _ = interlock(capsys, "tasks", "start", "chatty", "count=3", "--watch", *url)
    assert code == 0
    assert "line 3" in out and 'completed: {"lines": 3' in out
    code, out, _ = interlock(capsys, "tasks", "start", "explode", "--watch", *url)
    assert code == 1 and "boom" in out


def test_watch_exits_4_when_interrupted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data"
    with run_server(data, registry=make_registry()) as first:
        task_id = httpx.post(f"{first.url}/tasks", json={"task_type": "block"}).json()["task_id"]
    with run_server(data, registry=make_registry()) as second:
        code, out, _ = interlock(capsys, "watch", task_id, "--url", second.url)
    assert code == 4 and "interrupted" in out


def test_logs_print_the_whole_log_and_follow(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    url = ("--url", server.url)
    _, out, _ = interlock(capsys, "tasks", "start", "chatty", "count=4", *url)
    task_id = out.strip()
    code, out, _ = interlock(capsys, "logs", task_id, "--follow", *url)
    assert code == 0
    lines = out.splitlines()
    assert [line.split()[0] for line in lines] == [str(i) for i in range(1, len(lines) + 1)]
    assert [line for line in lines if "line " in line] == [
        f"{i + 1:>6}  line {i}" for i in range(1, 5)
    ]
    code, again, _ = interlock(capsys, "logs", task_id, *url)
    assert code == 0 and again == out
    code, jsonl, _ = interlock(capsys, "logs", task_id, "--json", *url)
    assert jsonl.splitlines()[1].startswith('{"seq":2,')


def test_logs_without_the_log_route_replay_the_websocket(
    server: LiveServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """An older server has no GET /tasks/{id}/messages: the replay window is the log."""
    drop_log_route(server)
    url = ("--url", server.url)
    code, _, _ = interlock(capsys, "tasks", "start", "chatty", "count=3", "--watch", *url)
    assert code == 0
    task_id = httpx.get(f"{server.url}/tasks").json()[0]["task_id"]
    code, out, _ = interlock(capsys, "logs", task_id, *url)
    assert code == 0
    assert "line 3" in out and out.splitlines()[-1].split()[1] == "completed:"


def test_url_and_token_come_from_the_environment(tmp_path: Path) -> None:
    import asyncio

    people = asyncio.run(seed(tmp_path / "data"))
    with run_server(people.data_dir, registry=make_registry(), auth=True) as live:
        env = {**os.environ, "INTERLOCK_URL": live.url}

        def run(extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "interlock", "tasks", "list"],
                env={**env, **extra},
                capture_output=True,
                text=True,
                timeout=60,
            )

        anonymous = run({})
        assert anonymous.returncode == 1 and "Not authenticated" in anonymous.stderr
        signed = run({"INTERLOCK_TOKEN": people.tokens[Role.VIEWER]})
        assert signed.returncode == 0, signed.stderr
        assert "task" in signed.stdout
