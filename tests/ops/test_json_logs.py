"""INTERLOCK_LOG_FORMAT=json: `interlock serve` as a subprocess, its output parsed line by line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from interlock.auth import Role
from tests.support import process_tasks
from tests.support.auth import NAMES, seed
from tests.support.loopwatch import slow_callback_reports
from tests.support.process import ServerProcess
from tests.support.ws import WS


def records(output: str) -> list[dict[str, Any]]:
    """Every line of the output as a JSON object (a line that is not one fails the test)."""
    out = []
    for line in output.splitlines():
        record = json.loads(line)
        assert isinstance(record, dict), line
        assert {"time", "level", "logger", "message"} <= set(record), line
        assert record["time"].endswith("Z"), line
        out.append(record)
    return out


async def test_every_line_is_json_and_names_session_request_and_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    people = await seed(data)
    operator = people.headers(Role.OPERATOR)
    with ServerProcess(
        data,
        INTERLOCK_LOG_FORMAT="json",
        INTERLOCK_AUTH="true",
        INTERLOCK_TASK_MODULES=process_tasks.__name__,
    ) as proc:
        async with httpx.AsyncClient(base_url=proc.url, timeout=10, headers=operator) as http:
            created = await http.post("/tasks", json={"task_type": "confirm_then_fail"})
            assert created.status_code == 202, created.text
            task_id = created.json()["task_id"]
            async with await WS.open(proc.ws_url, task_id, additional_headers=operator) as ws:
                request = await ws.until("request_confirmation")
                answered = await http.post(
                    f"/tasks/{task_id}/answer",
                    json={"request_id": request["request_id"], "value": True},
                )
                assert answered.status_code == 200, answered.text
                await ws.until("task_failed")
            proc.wait_for_output("boom after the answer")
        proc.stop()
    lines = records(proc.output())
    assert any(r["message"].startswith("Interlock listening on http://") for r in lines)

    # uvicorn's access line of the answer: its session, its request and who sent it.
    answer_line = next(
        r for r in lines if r["logger"] == "uvicorn.access" and "/answer" in r["message"]
    )
    assert answer_line["level"] == "INFO"
    assert answer_line["session_id"] == task_id
    assert answer_line["request_id"] == request["request_id"]
    assert answer_line["user"] == NAMES[Role.OPERATOR]

    # The task's own failure, logged from its run: the session, and the traceback.
    failure = next(r for r in lines if r["logger"] == "interlock.task.confirm_then_fail")
    assert failure["level"] == "ERROR"
    assert failure["session_id"] == task_id
    assert "RuntimeError: boom after the answer" in failure["exc_info"]

    # The WebSocket's handshake line (uvicorn's) names the session and the user.
    accepted = next(r for r in lines if "WebSocket" in r["message"] and task_id in r["message"])
    assert accepted["session_id"] == task_id and accepted["user"] == NAMES[Role.OPERATOR]

    # A line about no session carries none of the context fields.
    listening = next(r for r in lines if r["message"].startswith("Interlock listening"))
    assert not {"session_id", "request_id", "user"} & set(listening)


def test_the_slow_callback_check_reads_json_lines_too() -> None:
    """A JSON-logging server that blocks its loop still fails its test."""
    line = json.dumps(
        {
            "time": "2026-11-30T05:00:00.000Z",
            "level": "WARNING",
            "logger": "asyncio",
            "message": "Executing <Handle f()> took 0.150 seconds",
        }
    )
    other = json.dumps({"level": "INFO", "logger": "interlock", "message": "Executing tasks"})
    assert slow_callback_reports(f"{line}\n{other}\n") == [
        "Executing <Handle f()> took 0.150 seconds"
    ]
