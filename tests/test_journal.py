"""The journal writes before it broadcasts, rides out a failing store, and loses only the
session a permanent store error is about."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.support.faults import tmpfs
from tests.support.server import LiveServer, run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


async def start(client: httpx.AsyncClient, task_type: str, **params: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def until_health(client: httpx.AsyncClient, status: int) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while (r := await client.get("/health")).status_code != status:
            await asyncio.sleep(0.02)
    body: dict[str, Any] = r.json()
    return body


async def test_a_full_disk_pauses_the_stream_and_loses_nothing(tmp_path: Path) -> None:
    with (
        tmpfs(tmp_path / "disk", size="8m") as disk,
        run_server(
            disk.path / "data", registry=make_registry(), store_timeout=1.0, history_size=1000
        ) as server,
    ):
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            sid = await start(client, "chatty_big", count=400, size=2000, pause=0.005)
            async with await WS.open(server.ws_url, sid) as ws:
                await ws.replay()
                await ws.until("stream")
                with disk.full():
                    degraded = await until_health(client, 503)
                    assert degraded["status"] == "degraded"
                    assert "full" in degraded["reason"]
                await until_health(client, 200)
                done = await ws.until("task_completed", timeout=30)
                seqs = [m["seq"] for m in ws.received if "seq" in m]
        saved = stored_seqs(server, sid)
    assert seqs == list(range(seqs[0], done["seq"] + 1)), "a tab missed or repeated a seq"
    # Everything a tab saw was saved first, and nothing is missing.
    assert saved == list(range(1, done["seq"] + 1))


def stored_seqs(server: LiveServer, sid: str) -> list[int]:
    with sqlite3.connect(server.settings.database_path) as db:
        rows = db.execute("SELECT seq FROM messages WHERE session_id=? ORDER BY seq", (sid,))
        return [r[0] for r in rows]


async def test_a_permanent_store_error_fails_its_session_and_the_others_go_on(
    tmp_path: Path,
) -> None:
    with run_server(tmp_path / "data", registry=make_registry(), max_concurrent=2) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
            doomed = await start(client, "chatty", count=200, pause=0.01, confirm_at=5)
            healthy = await start(client, "chatty", count=60, pause=0.01)
            async with (
                await WS.open(server.ws_url, doomed) as tab,
                await WS.open(server.ws_url, healthy) as other,
            ):
                # The doomed task waits for its answer: all it said so far is stored (a prompt
                # is shown once committed) and it says nothing more until answered.
                prompt = await tab.until("request_confirmation")
                # Somebody wrote rows of this session the server does not know about (a
                # second server on the same file, a bad restore): its next seqs collide.
                last = (await client.get(f"/tasks/{doomed}")).json()["last_seq"]
                assert last == prompt["seq"]
                with sqlite3.connect(server.settings.database_path) as db:
                    db.executemany(  # the ones it wrote meanwhile stay; later ones collide
                        "INSERT OR IGNORE INTO messages VALUES (?,?,?,?)",
                        [(doomed, seq, "stream", "{}") for seq in range(last + 5, last + 150)],
                    )
                await tab.send(
                    {"type": "confirm", "value": True, "request_id": prompt["request_id"]}
                )
                done = await other.until("task_completed", timeout=20)
                assert done["result"] == {"lines": 60, "answer": None}
            async with asyncio.timeout(10):
                while (task := (await client.get(f"/tasks/{doomed}")).json())["status"] not in (
                    "failed"
                ):
                    await asyncio.sleep(0.02)
            assert task["error"].startswith("store error:"), task
            assert (await client.get("/health")).json()["status"] == "ok"
            assert (await client.get(f"/tasks/{healthy}")).json()["status"] == "completed"
