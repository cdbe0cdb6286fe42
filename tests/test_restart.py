"""History and seq survive a crash; unfinished tasks come back ``interrupted``."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support.process import ServerProcess
from tests.support.ws import WS


async def test_crash_mid_prompt_then_restart_keeps_history_and_continues_seq(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    first = ServerProcess(data).start()
    try:
        async with httpx.AsyncClient(base_url=first.url) as client:
            r = await client.post(
                "/tasks",
                json={
                    "task_type": "interactive_demo",
                    "parameters": {"stream_count": 3, "delay": 0},
                },
            )
            sid = r.json()["task_id"]
            async with await WS.open(first.ws_url, sid) as ws:
                request = await ws.until("request_user_input")
            before = [m for m in ws.received if "seq" in m]
    finally:
        first.kill()

    second = ServerProcess(data).start()
    try:
        async with httpx.AsyncClient(base_url=second.url) as client:
            task = (await client.get(f"/tasks/{sid}")).json()
            assert task["status"] == "interrupted"
            assert task["pending_request"] is None
            assert task["completed_at"] is not None
            async with await WS.open(second.ws_url, sid) as ws:
                start, items, complete = await ws.replay()
            assert start["status"] == "interrupted"
            assert items[: len(before)] == before
            tail = items[len(before) :]
            assert [m["type"] for m in tail] == ["request_resolved", "status", "task_interrupted"]
            assert tail[0]["request_id"] == request["request_id"]
            assert tail[0]["reason"] == "cancelled"
            seqs = [m["seq"] for m in items]
            assert seqs == list(range(1, len(seqs) + 1))
            assert complete["last_seq"] == seqs[-1]
            # The interrupted task no longer holds the slot.
            r = await client.post(
                "/tasks",
                json={"task_type": "dummy_short", "parameters": {"duration": 0, "steps": 1}},
            )
            assert r.status_code == 202
            r = await client.post(
                f"/tasks/{sid}/answer",
                json={
                    "request_id": request["request_id"],
                    "values": {"subject": "s", "body": "b", "to_address": "a@example.com"},
                },
            )
            assert r.status_code == 409
    finally:
        second.stop()


async def test_graceful_stop_marks_live_tasks_interrupted(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post("/tasks", json={"task_type": "dummy_very_long"})
            sid = r.json()["task_id"]
            async with await WS.open(server.ws_url, sid) as ws:
                await ws.until("status")
        # uvicorn re-raises SIGTERM after its graceful shutdown, so -15 is a clean exit too.
        assert server.stop() in (0, -15)
        assert "Application shutdown complete" in server.output()
    with ServerProcess(data) as again:
        async with httpx.AsyncClient(base_url=again.url) as client:
            task = (await client.get(f"/tasks/{sid}")).json()
            assert task["status"] == "interrupted"
            async with await WS.open(again.ws_url, sid) as ws:
                _, items, _ = await ws.replay()
            assert items[-1] == {
                **items[-1],
                "type": "task_interrupted",
                "reason": "server shutdown",
            }
        again.stop()
