"""``axis_movement`` over the wire: nothing moves before a Yes, and a cancel stops at once."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from interlock.hardware import SimulatedController, TravelTimeout
from tests.hardware.support import (
    REASONS,
    WAYS,
    RecordingController,
    SluggishController,
    Way,
    answer,
    cancel_a_move,
    stored_requests,
    submit,
    until_moving,
    until_terminal,
)
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS


async def test_nothing_moves_until_yes_then_the_move_completes_with_progress(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(
        client, "axis_movement", axis="x", mode="relative", distance=250.0, speed=5_000.0
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["kind"] == "hazard" and prompt["default"] is False
        details = prompt["details"]
        assert details["axis"] == "x" and details["from"] == 0.0 and details["to"] == 250.0
        assert details["speed"] == 5_000.0 and details["estimated_s"] == pytest.approx(0.05)
        await ws.send({"type": "ping"})
        await ws.until("pong")  # the prompt has been open for a round trip
        assert hw.position("x") == 0.0 and not hw.is_moving("x") and hw.moves == []
        await answer(ws, prompt, True)
        end = await until_terminal(ws)
    assert end["type"] == "task_completed"
    assert end["result"] == {"axis": "x", "position": 250.0, "target": 250.0}
    progress = [m for m in ws.received if m["type"] == "progress"]
    positions = [m["details"]["position"] for m in progress]
    assert len(positions) >= 2 and positions == sorted(positions) and positions[-1] == 250.0
    assert progress[-1]["progress"] == 100 and progress[-1]["details"]["target"] == 250.0
    assert hw.position("x") == 250.0 and hw.stops == []


async def test_no_leaves_the_axis_untouched(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(client, "axis_movement", axis="y", mode="absolute", target=-500.0)
    async with await WS.open(server.ws_url, task_id) as ws:
        await answer(ws, await ws.until("request_confirmation"), False)
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled" and end["reason"] == "declined"
    assert hw.moves == [] and hw.position("y") == 0.0


async def test_an_unanswered_hazard_prompt_times_out_to_no(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(
        client, "axis_movement", axis="z", mode="relative", distance=100.0, confirm_timeout=0.2
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["timeout"] == 0.2 and prompt["default"] is False
        resolved = await ws.until("request_resolved")
        end = await until_terminal(ws)
    assert resolved["reason"] == "timeout" and resolved["value"] is False
    assert resolved["answered_by"]["via"] == "server"
    assert end["type"] == "task_cancelled" and end["reason"] == "declined"
    assert hw.moves == [] and hw.position("z") == 0.0


async def test_the_answer_who_gave_it_and_the_details_are_stored(
    server: LiveServer, client: httpx.AsyncClient
) -> None:
    task_id = await submit(
        client, "axis_movement", axis="x", mode="absolute", target=40.0, speed=4_000.0
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        await answer(ws, prompt, True)
        resolved = await ws.until("request_resolved")
        await until_terminal(ws)
    (stored,) = await stored_requests(server, task_id)
    assert stored.request_id == prompt["request_id"] and stored.kind == "hazard"
    assert stored.status == "answered" and stored.answer is True
    assert stored.answered_by == resolved["answered_by"]
    assert stored.answered_by["via"] == "websocket" and stored.answered_by["connection_id"]
    assert stored.payload["details"] == prompt["details"]
    assert stored.payload["details"]["to"] == 40.0 and stored.resolved_at is not None


@pytest.mark.parametrize("way", WAYS)
async def test_cancel_stops_the_axis_every_time(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController, way: Way
) -> None:
    for i in range(50):
        move = await cancel_a_move(server, client, hw, way, target=3_000.0 if i % 2 else -3_000.0)
        # How soon: bench/stop_latency.py (no stopwatch in tests).
        assert move.stop_issued is not None, (i, "no stop was commanded after the cancel")
        end = move.end
        assert end["type"] == "task_cancelled" and end["reason"] == REASONS[way]
        assert not hw.is_moving("x")
        assert end["position"] == hw.position("x")
        low, high = sorted((move.start, move.target))
        assert low < end["position"] < high  # short of the target
        info = (await client.get(f"/tasks/{end['task_id']}")).json()
        assert info["status"] == "cancelled" and info["last_seq"] == end["seq"]


async def test_a_task_timeout_stops_the_axis_and_fails_the_task(tmp_path: Path) -> None:
    hw = RecordingController(SimulatedController())
    with run_server(tmp_path / "data", services={"controller": hw}, task_timeout=1.0) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(
                client, "axis_movement", axis="x", mode="absolute", target=9_000.0
            )
            async with await WS.open(server.ws_url, task_id) as ws:
                prompt = await ws.until("request_confirmation")
                await answer(ws, prompt, True)
                await until_moving(ws, 0.0)
                end = await until_terminal(ws)
    assert end["type"] == "task_failed" and "timed out" in end["error"]
    assert not hw.is_moving("x") and 0 < hw.position("x") < 9_000.0
    stopped = [m for m in ws.received if m["type"] == "stream"]
    assert stopped and stopped[-1]["content"].startswith("Stopped x at ")
    assert stopped[-1]["seq"] < end["seq"]


async def test_a_move_that_never_arrives_is_stopped_and_fails_the_task(tmp_path: Path) -> None:
    """The stage crawls at 1 % of the commanded speed. The move's timeout follows from its
    own distance and speed (here 500 µm at 5000 µm/s: 0.1 s, plus 0.2 s margin), not from the
    axis' whole range, so the stuck move is stopped long before it would have arrived."""
    hw = RecordingController(SluggishController(0.01, acceleration=1_000_000.0))
    services = {"controller": hw, "travel_timeout": TravelTimeout(slack=1.0, ramp=0.0, margin=0.2)}
    with run_server(tmp_path / "data", services=services) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(
                client, "axis_movement", axis="x", mode="absolute", target=500.0, speed=5_000.0
            )
            async with await WS.open(server.ws_url, task_id) as ws:
                await answer(ws, await ws.until("request_confirmation"), True)
                end = await until_terminal(ws)
    assert end["type"] == "task_failed"
    assert end["error"].startswith(
        "Axis x did not reach 500 µm within 0.3 s (at 5000 µm/s); stopped at "
    )
    assert [axis for _, axis in hw.stops][:1] == ["x"]
    assert not hw.is_moving("x") and 0 < hw.position("x") < 500.0
    assert end["error"].endswith(f"stopped at {hw.position('x'):g} µm")
    lines = [m["content"] for m in ws.received if m["type"] == "stream"]
    assert lines == [f"Stopped x at {hw.position('x'):g} µm."]
