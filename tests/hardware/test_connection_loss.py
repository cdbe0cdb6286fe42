"""Connection loss at run time, over the wire: axes report ``fault``, a motion task fails with a
clear error, GET /hardware shows the controller disconnected, and it reconnects (backoff)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.hardware import Backoff, SimulatedController
from tests.hardware.support import answer, submit, until_moving, until_terminal
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS


@pytest.fixture
def stage() -> Iterator[SimulatedController]:
    controller = SimulatedController(
        acceleration=200_000.0, backoff=Backoff(initial=0.01, maximum=0.05)
    )
    yield controller
    controller.close()


@pytest.fixture
def server(tmp_path: Path, stage: SimulatedController) -> Iterator[LiveServer]:
    with run_server(tmp_path / "data", services={"controller": stage}) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def _hardware(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/hardware")
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


async def _until_connected(client: httpx.AsyncClient, connected: bool) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while (view := await _hardware(client))["connected"] is not connected:
            await asyncio.sleep(0.01)
    return view


async def test_link_lost_mid_move_fails_the_task_and_faults_the_axes(
    server: LiveServer, client: httpx.AsyncClient, stage: SimulatedController
) -> None:
    view = await _hardware(client)
    assert view["connected"] is True
    assert {(a["state"], a["fault"]) for a in view["axes"]} == {("idle", None)}
    task_id = await submit(
        client, "axis_movement", axis="x", mode="absolute", target=8_000.0, speed=2_000.0
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        await answer(ws, prompt, True)
        await until_moving(ws, prompt["details"]["from"])
        stage.break_link("cable pulled")
        end = await until_terminal(ws)
    assert end["type"] == "task_failed"
    assert end["error"].startswith(
        "Axis x: controller 'simulated' is disconnected: cable pulled; the move was interrupted"
    )
    assert "Could not stop axes: x:" in end["error"]  # the stop could not be delivered
    view = await _hardware(client)
    assert view["connected"] is False
    for axis in view["axes"]:
        assert axis["state"] == "fault" and axis["moving"] is False
        assert axis["fault"] == "controller disconnected: cable pulled"
    assert view["axes"][0]["position"] > 0  # the last position read

    stage.restore_link()
    view = await _until_connected(client, True)
    assert {(a["state"], a["fault"]) for a in view["axes"]} <= {("idle", None), ("moving", None)}


async def test_submission_needing_the_controller_gets_503_while_disconnected(
    client: httpx.AsyncClient, stage: SimulatedController
) -> None:
    stage.break_link()
    r = await client.post(
        "/tasks",
        json={"task_type": "axis_movement", "parameters": {"axis": "x", "distance": 10.0}},
    )
    assert r.status_code == 503
    assert r.json() == {
        "detail": "controller 'simulated' is disconnected: simulated link loss",
        "code": "controller_disconnected",
    }
    assert r.headers["retry-after"] == "1"
    stage.restore_link()
    await _until_connected(client, True)
    await submit(client, "axis_movement", axis="x", mode="relative", distance=10.0)


async def test_a_task_started_while_disconnected_fails_clearly(
    server: LiveServer, client: httpx.AsyncClient, stage: SimulatedController
) -> None:
    # An absolute move's submission check does not ask the controller; the task does.
    stage.break_link()
    task_id = await submit(client, "axis_movement", axis="y", mode="absolute", target=5.0)
    async with await WS.open(server.ws_url, task_id) as ws:
        end = await until_terminal(ws)
    assert end["type"] == "task_failed"
    assert end["error"] == "controller 'simulated' is disconnected: simulated link loss"
    assert not [m for m in ws.received if m["type"] == "request_confirmation"]
