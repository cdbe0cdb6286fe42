"""The hardware-safety contract over the wire, for every rig of ``rigs_*.py`` (as the
controller contract in ``test_contract.py``): a real server drives the rig's controller.

No motion without Yes; a cancel stops the axis and it comes to rest; a server shutdown stops
every axis a task touched; a link lost mid-move fails the task cleanly; a restored link is
found again and the next move runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.hardware import Axis
from interlock.hardware.limits import limits_for
from tests.hardware.rigs import Rig, load_rigs
from tests.hardware.support import RecordingController, answer, submit, until_terminal
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS

RIGS = load_rigs()


@pytest.fixture(params=sorted(RIGS))
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    with RIGS[request.param](tmp_path) as made:
        yield made


@pytest.fixture
def hw(rig: Rig) -> RecordingController:
    return RecordingController(rig.controller)


@pytest.fixture
def server(tmp_path: Path, hw: RecordingController) -> Iterator[LiveServer]:
    with run_server(tmp_path / "data", services={"controller": hw}) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        yield http


def _axis(rig: Rig) -> Axis:
    axes = {axis.id: axis for axis in rig.controller.axes()}
    return axes[rig.axis] if rig.axis is not None else next(iter(axes.values()))


def _long_move(rig: Rig, axis: Axis) -> tuple[float, float]:
    """A target (away from the nearer limit) and a speed, sane for the axis' unit, that take
    about ``rig.move_seconds``."""
    position = rig.controller.position(axis.id)
    up = axis.max - position >= position - axis.min
    room = (axis.max - position) if up else (position - axis.min)
    distance = min(room * 0.5, (axis.max - axis.min) * 0.25)
    speed = distance / rig.move_seconds
    limits = limits_for(axis.unit)
    if limits is not None:
        speed = min(max(speed, limits.min_speed), limits.max_speed)
        distance = min(distance, speed * rig.move_seconds)
    return position + (distance if up else -distance), speed


async def _moving(ws: WS, start: float, distance: float) -> None:
    """Until a progress message shows the axis well under way."""
    while True:
        details = (await ws.until("progress")).get("details") or {}
        position = details.get("position")
        if isinstance(position, int | float) and abs(position - start) > abs(distance) * 0.05:
            return


async def _start_move(
    rig: Rig, client: httpx.AsyncClient, server: LiveServer
) -> tuple[str, Axis, float, float, WS]:
    axis = _axis(rig)
    start = rig.controller.position(axis.id)
    target, speed = _long_move(rig, axis)
    task_id = await submit(
        client, "axis_movement", axis=axis.id, mode="absolute", target=target, speed=speed
    )
    ws = await WS.open(server.ws_url, task_id)
    return task_id, axis, start, target, ws


async def test_nothing_moves_without_yes(
    rig: Rig, server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    _, axis, start, _, ws = await _start_move(rig, client, server)
    async with ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["kind"] == "hazard" and prompt["default"] is False
        await answer(ws, prompt, False)
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled" and end["reason"] == "declined"
    assert hw.moves == [] and not rig.controller.is_moving(axis.id)
    assert rig.controller.position(axis.id) == pytest.approx(start)


async def test_cancel_stops_the_axis_and_it_comes_to_rest(
    rig: Rig, server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id, axis, start, target, ws = await _start_move(rig, client, server)
    async with ws:
        await answer(ws, await ws.until("request_confirmation"), True)
        await _moving(ws, start, target - start)
        r = await client.delete(f"/tasks/{task_id}")
        assert r.status_code == 200, r.text
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled"
    assert [a for _, a in hw.stops][:1] == [axis.id]
    assert not rig.controller.is_moving(axis.id)
    rest = rig.controller.position(axis.id)
    assert end["position"] == pytest.approx(rest)
    assert 0.0 < (rest - start) / (target - start) < 1.0


async def test_shutdown_stops_every_touched_axis(
    rig: Rig, tmp_path: Path, hw: RecordingController
) -> None:
    with run_server(tmp_path / "shutdown", services={"controller": hw}) as live:
        async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
            _, axis, start, target, ws = await _start_move(rig, http, live)
            async with ws:
                await answer(ws, await ws.until("request_confirmation"), True)
                await _moving(ws, start, target - start)
    # The server is gone: it cancelled the task and halted every axis before it exited.
    assert axis.id in [a for _, a in hw.stops]
    assert not rig.controller.is_moving(axis.id)
    assert rig.controller.position(axis.id) != pytest.approx(target)


async def _hardware(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/hardware")
    assert r.status_code == 200, r.text
    view: dict[str, Any] = r.json()
    return view


async def test_link_lost_mid_move_fails_the_task_then_reconnects(
    rig: Rig, server: LiveServer, client: httpx.AsyncClient
) -> None:
    _, axis, start, target, ws = await _start_move(rig, client, server)
    async with ws:
        await answer(ws, await ws.until("request_confirmation"), True)
        await _moving(ws, start, target - start)
        await asyncio.to_thread(rig.break_link)
        end = await until_terminal(ws)
    assert end["type"] == "task_failed"
    assert "disconnected" in end["error"] and f"Axis {axis.id}" in end["error"]
    view = await _hardware(client)
    assert view["connected"] is False
    assert {a["state"] for a in view["axes"]} == {"fault"}

    await asyncio.to_thread(rig.restore_link)
    async with asyncio.timeout(rig.settle * 2):
        while not (view := await _hardware(client))["connected"]:
            await asyncio.sleep(0.02)
    # Whatever the firmware did meanwhile, let it finish before the next move.
    async with asyncio.timeout(rig.move_seconds * 3 + rig.settle):
        while any(a["moving"] for a in (await _hardware(client))["axes"]):
            await asyncio.sleep(0.02)
    here = rig.controller.position(axis.id)
    step = (target - start) / 10
    speed = _long_move(rig, axis)[1]
    task_id = await submit(
        client, "axis_movement", axis=axis.id, mode="absolute", target=here - step, speed=speed
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        await answer(ws, await ws.until("request_confirmation"), True)
        end = await until_terminal(ws)
    assert end["type"] == "task_completed", end
    assert end["result"]["position"] == pytest.approx(here - step, abs=abs(step) * 1e-2)
