"""Faults in a cluster on a Redis of the test's own (append-only file, fsync always): a worker
killed mid-move, Redis killed and restarted, a serve instance stopped."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed

from interlock.protocol import TERMINAL_TYPES
from tests.hardware.support import until_moving
from tests.support.cluster import (
    Cursor,
    cluster,
    poll_health,
    session_messages,
    submit,
)
from tests.support.redis import RedisServer, new_prefix
from tests.support.ws import WS

LEASE = 2.0
#: A busy machine's delays past the lease (a lease expires a tenth early and is reaped
#: every tenth of it: a dead worker's tasks end within the lease).
SLACK = 1.5
SPEED = 1_000.0  # um/s


def confirm(prompt: dict[str, Any], value: bool) -> dict[str, Any]:
    return {"type": "confirm", "value": value, "request_id": prompt["request_id"]}


async def until_seq(tab: WS, seq: int) -> None:
    """Receive until the tab got the session's message ``seq``."""
    async with asyncio.timeout(10):
        while max((m["seq"] for m in session_messages(tab)), default=0) < seq:
            await tab.recv()


async def read_to_end(base: str, task_id: str, tab: WS) -> list[dict[str, Any]]:
    """The session's messages a tab got and gets until the task ends; when the server
    closes it, it reconnects with ``since`` as the console does."""
    seen = session_messages(tab)
    async with asyncio.timeout(20):
        while not seen or seen[-1]["type"] not in TERMINAL_TYPES:
            try:
                message = await tab.recv()
            except ConnectionClosed:
                tab = await WS.open(base, task_id, since=seen[-1]["seq"])
                continue
            if "seq" in message:
                seen.append(message)
    await tab.close()
    return seen


async def test_a_worker_killed_mid_move_leaves_its_task_interrupted_worker_lost_within_the_lease(
    tmp_path: Path,
) -> None:
    with (
        RedisServer(tmp_path) as redis,
        cluster(
            tmp_path / "nodes",
            redis.url,
            new_prefix(),
            instances=1,
            workers=1,
            INTERLOCK_WORKER_LEASE=str(LEASE),
        ) as nodes,
    ):
        (a,) = nodes.servers
        (worker,) = nodes.workers
        async with httpx.AsyncClient(base_url=a.url, timeout=10) as http:
            created = await submit(
                http, "axis_movement", axis="x", mode="absolute", target=9_000.0, speed=SPEED
            )
            task_id = created["task_id"]
            async with await WS.open(a.ws_url, task_id) as tab:
                prompt = await tab.until("request_confirmation")
                await tab.send(confirm(prompt, True))
                await until_moving(tab, prompt["details"]["from"])
                worker.kill()
                killed = time.monotonic()
                end = await tab.until("task_interrupted", timeout=LEASE + SLACK + 10)
                took = time.monotonic() - killed
            assert end["reason"] == "worker lost"
            [lost_x] = end["axes"]  # the axis the task held, as the worker last reported it
            assert lost_x["axis"] == "x" and lost_x["unit"] == "um"
            assert lost_x["position"] is not None
            assert took <= LEASE + SLACK, f"interrupted {took:.1f} s after the kill"
            task = (await http.get(f"/tasks/{task_id}")).json()
            assert task["status"] == "interrupted"
            # The record names the axes as the worker last reported them: x was moving.
            assert task["error"] and re.search(r"\bx\b", task["error"]), task["error"]

            # Never re-run, and x is free again: a new worker moves it for a new task.
            nodes.add_worker()
            again = (await submit(http, "axis_movement", axis="x", distance=10.0))["task_id"]
            async with await WS.open(a.ws_url, again) as tab:
                await tab.send(confirm(await tab.until("request_confirmation"), True))
                await tab.until("task_completed")
            assert (await http.get(f"/tasks/{task_id}")).json()["status"] == "interrupted"


async def test_redis_killed_and_restarted_loses_nothing_acknowledged_and_every_process_recovers(
    tmp_path: Path,
) -> None:
    with (
        RedisServer(tmp_path) as redis,
        cluster(
            tmp_path / "nodes",
            redis.url,
            new_prefix(),
            instances=2,
            workers=1,
            INTERLOCK_STORE_TIMEOUT="1",
        ) as nodes,
    ):
        a, b = nodes.servers
        clients = [
            httpx.AsyncClient(base_url=p.url, timeout=10) for p in (*nodes.servers, *nodes.workers)
        ]
        http_a, http_b = clients[:2]
        try:
            # One task done, one waiting on its second prompt after its first was answered.
            done_id = (await submit(http_a, "confirm_many", count=1, lines=2))["task_id"]
            async with await WS.open(b.ws_url, done_id) as tab:
                await tab.send(confirm(await tab.until("request_confirmation"), True))
                await tab.until("task_completed")
            done_before = session_messages(tab)
            task_id = (await submit(http_b, "confirm_many", count=2, lines=3))["task_id"]
            tab_a = await WS.open(a.ws_url, task_id)  # stays open through the outage
            async with await WS.open(b.ws_url, task_id) as tab_b:
                first = await tab_a.until("request_confirmation")
                r = await http_b.post(
                    f"/tasks/{task_id}/answer",
                    json={"request_id": first["request_id"], "value": True},
                )
                assert r.status_code == 200, r.text
                for tab in (tab_a, tab_b):
                    await Cursor(tab).count("request_confirmation", 2)
            acknowledged = session_messages(tab_a)
            assert session_messages(tab_b) == acknowledged
            second = [m for m in acknowledged if m["type"] == "request_confirmation"][1]

            redis.kill()
            await asyncio.gather(*(poll_health(c, "degraded") for c in clients))
            r = await http_a.post("/tasks", json={"task_type": "confirm_many"})
            assert r.status_code == 503 and r.json()["code"] == "store_unavailable"
            redis.start()  # the same directory: it reloads its append-only file
            await asyncio.gather(*(poll_health(c, "ok") for c in clients))

            for server, http in ((a, http_a), (b, http_b)):
                async with await WS.open(server.ws_url, done_id) as tab:
                    _, replayed, _ = await tab.replay()
                assert replayed == done_before
                async with await WS.open(server.ws_url, task_id) as tab:
                    _, replayed, _ = await tab.replay()
                assert replayed[: len(acknowledged)] == acknowledged
                assert (await http.get(f"/tasks/{task_id}")).json()["status"] == "waiting"
                requests = (await http.get(f"/tasks/{task_id}/requests")).json()
                assert [(q["request_id"], q["status"], q["answer"]) for q in requests] == [
                    (first["request_id"], "answered", True),
                    (second["request_id"], "open", None),
                ]

            # The worker still runs its task: the second answer reaches it from B, and the
            # tab open on A all along sees the rest (reconnecting with since if A closed it).
            r = await http_b.post(
                f"/tasks/{task_id}/answer",
                json={"request_id": second["request_id"], "value": False},
            )
            assert r.status_code == 200, r.text
            seen = await read_to_end(a.ws_url, task_id, tab_a)
            assert seen[-1]["type"] == "task_completed"
            assert seen[-1]["result"] == {"answers": [True, False]}
            async with await WS.open(b.ws_url, task_id) as tab:
                _, replayed, _ = await tab.replay()
            assert seen == replayed, "the tab kept through the outage missed or repeated some"
            # And a new task runs.
            new_id = (await submit(http_b, "confirm_many", count=1))["task_id"]
            async with await WS.open(a.ws_url, new_id) as tab:
                await tab.send(confirm(await tab.until("request_confirmation"), True))
                assert (await tab.until("task_completed"))["result"] == {"answers": [True]}
        finally:
            for client in clients:
                await client.aclose()


async def test_a_stopped_instance_s_tab_reconnects_to_the_other_with_since_and_misses_nothing(
    tmp_path: Path,
) -> None:
    # Lines keep coming (for up to a minute) until the test cancels the task: whenever A
    # ends, the tab misses some; a replay window bigger than what it can miss.
    with (
        RedisServer(tmp_path) as redis,
        cluster(
            tmp_path / "nodes",
            redis.url,
            new_prefix(),
            instances=2,
            workers=1,
            INTERLOCK_HISTORY_SIZE="3000",
            INTERLOCK_LOG_MAX_MESSAGES="3000",
        ) as nodes,
    ):
        a, b = nodes.servers
        async with httpx.AsyncClient(base_url=b.url, timeout=10) as http_b:
            task_id = (await submit(http_b, "paced_lines", count=3000, pause=0.02))["task_id"]
            async with await WS.open(b.ws_url, task_id) as witness:
                tab = await WS.open(a.ws_url, task_id)
                await Cursor(tab).count("stream", 20)
                a.terminate()
                try:  # the tab reads what A still sends until A closes it
                    async with asyncio.timeout(20):
                        while True:
                            await tab.recv()
                except ConnectionClosed:
                    pass
                a.stop()
                before = session_messages(tab)
                since = before[-1]["seq"]
                # Let the task go on without the tab for a while, then move it to B.
                await until_seq(witness, since + 5)
                async with await WS.open(b.ws_url, task_id, since=since) as moved:
                    _, replayed, complete = await moved.replay()
                    await until_seq(moved, complete["last_seq"] + 5)  # and some live ones
                    r = await http_b.delete(f"/tasks/{task_id}")
                    assert r.status_code == 200, r.text
                    end = await moved.until("task_cancelled")
                await witness.until("task_cancelled")
    assert replayed and replayed[0]["seq"] == since + 1
    assert end["reason"] == "cancelled by operator", "stopping A must not touch the task"
    after = session_messages(moved)
    assert before + after == session_messages(witness), "a gap or a duplicate"
    seqs = [m["seq"] for m in before + after]
    assert seqs == list(range(1, len(seqs) + 1))
