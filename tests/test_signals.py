"""SIGTERM and SIGINT against the real ``interlock serve``: the axes stop at once, whatever
else is open, and the process leaves in bounded time (twice as fast on a second SIGINT)."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sqlite3
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from tests.hardware.support import answer, submit, until_moving
from tests.support.faults import locked_database
from tests.support.process import ServerProcess
from tests.support.rawws import StalledTab
from tests.support.ws import WS

SPEED = 1_000.0  # um/s: the axis covers 1 mm per second of delay
SHUTDOWN_TIMEOUT = 3.0


def stalled_request(port: int) -> socket.socket:
    """A request whose body never finishes arriving: uvicorn waits for it at shutdown."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(
        b"POST /tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b'Content-Length: 1000\r\n\r\n{"task_type": '
    )
    return sock


def stored_messages(data: Path, task_id: str) -> list[dict[str, Any]]:
    with sqlite3.connect(data / "interlock.sqlite3") as db:
        rows = db.execute(
            "SELECT data FROM messages WHERE session_id=? ORDER BY seq", (task_id,)
        ).fetchall()
    return [json.loads(r[0]) for r in rows]


async def start_long_move(proc: ServerProcess, client: httpx.AsyncClient) -> tuple[str, WS]:
    task_id = await submit(
        client, "axis_movement", axis="x", mode="absolute", target=9_000.0, speed=SPEED
    )
    ws = await WS.open(proc.ws_url, task_id)
    await answer(ws, await ws.until("request_confirmation"), True)
    await until_moving(ws, 0.0)
    return task_id, ws


def stop_distance(history: list[dict[str, Any]], signalled_at: float) -> float:
    """How far x travelled after the signal: its rest position minus where it was."""
    moving = [m for m in history if m["type"] == "progress" and "position" in (m["details"] or {})]
    before = [m for m in moving if datetime.fromisoformat(m["ts"]).timestamp() <= signalled_at]
    last = before[-1]
    at_signal = last["details"]["position"] + SPEED * (
        signalled_at - datetime.fromisoformat(last["ts"]).timestamp()
    )
    (stopped,) = [m["content"] for m in history if m["type"] == "stream"]
    rest = float(stopped.removeprefix("Stopped x at ").removesuffix(" µm."))
    return rest - float(at_signal)


async def test_sigterm_stops_the_axis_at_once_though_a_request_and_a_tab_stall(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with ServerProcess(data, INTERLOCK_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT)) as proc:
        async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
            task_id, ws = await start_long_move(proc, client)
            tab = StalledTab("127.0.0.1", proc.port, f"/ws/{task_id}")
            with closing(stalled_request(proc.port)), closing(tab), closing(ws.conn.transport):
                await asyncio.sleep(0.2)  # a few progress messages to measure from
                assert proc.proc is not None
                signalled_at = time.time()
                proc.proc.send_signal(signal.SIGTERM)
                code = await asyncio.to_thread(proc.proc.wait, SHUTDOWN_TIMEOUT + 10)
                left_after = time.time() - signalled_at
    assert code == 0, proc.output()
    # Bounded by the shutdown timeout although a request and a tab never finished.
    assert left_after < SHUTDOWN_TIMEOUT + 2, proc.output()
    history = stored_messages(data, task_id)
    assert history[-1] == {**history[-1], "type": "task_interrupted", "reason": "server shutdown"}
    # Stopped at the signal, not after the graceful wait: less than 0.3 s of travel (the
    # stalled connections kept the server up for seconds; braking takes 25 um).
    assert stop_distance(history, signalled_at) < 0.3 * SPEED, proc.output()


async def test_sigterm_with_a_locked_store_still_stops_and_exits_in_time(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {"INTERLOCK_SHUTDOWN_TIMEOUT": str(SHUTDOWN_TIMEOUT), "INTERLOCK_STORE_TIMEOUT": "1"}
    with ServerProcess(data, env=env) as proc:
        async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
            _task_id, ws = await start_long_move(proc, client)
            with locked_database(data / "interlock.sqlite3"), closing(ws.conn.transport):
                assert proc.proc is not None
                signalled_at = time.time()
                proc.proc.send_signal(signal.SIGTERM)
                code = await asyncio.to_thread(proc.proc.wait, SHUTDOWN_TIMEOUT + 10)
                left_after = time.time() - signalled_at
    log = proc.output()
    assert code in (0, 1), log
    assert left_after < SHUTDOWN_TIMEOUT + 3, log
    assert "SIGTERM: stop commanded on axes x" in log


async def test_a_second_sigint_halts_and_exits_at_once(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = {
        "INTERLOCK_SHUTDOWN_TIMEOUT": "60",
        "INTERLOCK_MAX_CONCURRENT": "2",
        "INTERLOCK_TASK_MODULES": "tests.support.process_tasks",
    }
    with ServerProcess(data, env=env) as proc:
        async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
            r = await client.post("/tasks", json={"task_type": "stuck_thread"})
            assert r.status_code == 202, r.text
            _task_id, ws = await start_long_move(proc, client)
            # The stalled request keeps the graceful part waiting.
            with closing(stalled_request(proc.port)), closing(ws.conn.transport):
                assert proc.proc is not None
                proc.proc.send_signal(signal.SIGINT)
                await asyncio.to_thread(proc.wait_for_output, "SIGINT: stop commanded on axes")
                forced_at = time.monotonic()
                proc.proc.send_signal(signal.SIGINT)
                code = await asyncio.to_thread(proc.proc.wait, 10)
                took = time.monotonic() - forced_at
    log = proc.output()
    assert code == 128 + signal.SIGINT, log
    assert "second SIGINT: stop commanded on axes" in log
    assert took < 5, log  # not the 60 s shutdown timeout, nor a hang on the stuck thread
