"""The hardware-safety scenarios with the ``visa`` controller driving the SMC100-style TCP
instrument simulator: a real server, a real socket to the instrument, motion over time."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from interlock.hardware.visa import VisaController
from tests.hardware.smc100_sim import Smc100Simulator
from tests.hardware.support import (
    REASONS,
    WAYS,
    RecordingController,
    Way,
    answer,
    cancel_a_move,
    submit,
    until_moving,
    until_terminal,
)
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS

pytest.importorskip("pyvisa_py")


@pytest.fixture
def sim() -> Iterator[Smc100Simulator]:
    with Smc100Simulator() as instrument:
        yield instrument


@pytest.fixture
def hw(sim: Smc100Simulator) -> Iterator[RecordingController]:
    controller = VisaController(
        {
            "resource": sim.resource,
            "commands": "smc100",
            "axes": [
                {"id": "x", "address": "1", "unit": "um"},
                {"id": "y", "address": "2", "unit": "um"},
            ],
            "timeout": 1.5,  # a loaded machine may starve the instrument thread a while
            "reconnect": {"initial": 0.02, "maximum": 0.1},
        }
    )
    try:
        yield RecordingController(controller)
    finally:
        controller.close()


@pytest.fixture
def server(tmp_path: Path, hw: RecordingController) -> Iterator[LiveServer]:
    with run_server(tmp_path / "data", services={"controller": hw}) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


def motion_commands(sim: Smc100Simulator) -> list[str]:
    return [c for c in sim.received if c[1:3] in {"PA", "PR", "VA"}]


async def test_nothing_reaches_the_instrument_without_a_yes(
    server: LiveServer, client: httpx.AsyncClient, sim: Smc100Simulator
) -> None:
    task_id = await submit(client, "axis_movement", axis="x", mode="absolute", target=5_000.0)
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["details"]["from"] == 0.0 and prompt["details"]["to"] == 5_000.0
        await ws.send({"type": "ping"})
        await ws.until("pong")
        assert motion_commands(sim) == []
        await answer(ws, prompt, False)
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled" and end["reason"] == "declined"
    assert motion_commands(sim) == []


@pytest.mark.parametrize("way", WAYS)
async def test_cancel_sends_the_stop_and_the_axis_stands_still_short_of_its_target(
    server: LiveServer,
    client: httpx.AsyncClient,
    hw: RecordingController,
    sim: Smc100Simulator,
    way: Way,
) -> None:
    move = await cancel_a_move(server, client, hw, way, target=9_000.0, speed=1_000.0)
    assert move.stop_issued is not None and move.at_rest is not None
    assert move.end["type"] == "task_cancelled" and move.end["reason"] == REASONS[way]
    assert "1ST" in sim.received[sim.received.index("1PA9000.000000") :]
    assert not hw.is_moving("x") and not sim.stage.is_moving("1")
    assert 0 < move.end["position"] == hw.position("x") < 9_000.0


async def test_shutdown_stops_every_axis_a_task_touched(
    tmp_path: Path, hw: RecordingController, sim: Smc100Simulator
) -> None:
    with run_server(tmp_path / "data", services={"controller": hw}) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(
                client, "axis_movement", axis="y", mode="absolute", target=-9_000.0, speed=500.0
            )
            ws = await WS.open(server.ws_url, task_id)
            await answer(ws, await ws.until("request_confirmation"), True)
            await until_moving(ws, 0.0)
            await ws.close()
    # The server is gone; the instrument says what it was told.
    moved = sim.received.index("2PA-9000.000000")
    assert "2ST" in sim.received[moved:]
    assert not sim.stage.is_moving("2") and -9_000.0 < sim.stage.position("2") < 0.0


async def test_an_instrument_lost_mid_move_fails_the_task_and_is_found_again(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController, sim: Smc100Simulator
) -> None:
    task_id = await submit(
        client, "axis_movement", axis="x", mode="absolute", target=9_000.0, speed=1_000.0
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        await answer(ws, await ws.until("request_confirmation"), True)
        await until_moving(ws, 0.0)
        await asyncio.to_thread(sim.kill)
        end = await until_terminal(ws)
    assert end["type"] == "task_failed"
    assert "controller 'visa' is disconnected" in end["error"]
    assert not hw.connected
    view = (await client.get("/hardware")).json()
    assert view["connected"] is False
    for axis in view["axes"]:
        assert axis["state"] == "fault" and "controller disconnected" in axis["fault"]

    await asyncio.to_thread(sim.restart)
    async with asyncio.timeout(10):  # the reconnector's backoff: nothing to await but it
        while not (view := (await client.get("/hardware")).json())["connected"]:
            await asyncio.sleep(0.02)
    assert [(a["state"], a["fault"]) for a in view["axes"]] == [("idle", None), ("idle", None)]
    start = hw.position("x")
    assert 0 < start < 9_000.0  # where the power cut left it
    task_id = await submit(client, "axis_movement", axis="x", distance=100.0, speed=5_000.0)
    async with await WS.open(server.ws_url, task_id) as ws:
        await answer(ws, await ws.until("request_confirmation"), True)
        end = await until_terminal(ws)
    assert end["type"] == "task_completed"
    assert end["result"]["position"] == pytest.approx(start + 100.0, abs=1e-6)


async def test_a_server_configured_for_visa_drives_the_instrument(
    tmp_path: Path, sim: Smc100Simulator
) -> None:
    options = {"resource": sim.resource, "axes": [{"id": "x", "address": "1", "unit": "um"}]}
    with run_server(
        tmp_path / "data", controller="visa", controller_options=json.dumps(options)
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            view = (await client.get("/hardware")).json()
            assert view["controller"] == "visa"
            assert [(a["id"], a["min"], a["max"]) for a in view["axes"]] == [
                ("x", -10_000.0, 10_000.0)
            ]
            task_id = await submit(client, "axis_movement", axis="x", distance=50.0, speed=5_000.0)
            async with await WS.open(server.ws_url, task_id) as ws:
                await answer(ws, await ws.until("request_confirmation"), True)
                end = await until_terminal(ws)
    assert end["type"] == "task_completed" and end["result"]["position"] == 50.0
    assert "1PA50.000000" in sim.received
