"""What stops when: failed stops, tasks that end early, closed tabs, and server shutdown."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from interlock.hardware import SimulatedController
from interlock.hardware.resources import axis_resources
from interlock.runtime import TaskContext
from interlock.stage import Stage
from interlock.tasks import TaskRegistry, builtin_registry
from tests.hardware.support import (
    RecordingController,
    answer,
    submit,
    until_moving,
    until_terminal,
)
from tests.support.process import ServerProcess
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS


class Targets(BaseModel):
    x: float = 5_000.0
    y: float = 5_000.0
    speed: float = 1_000.0


def registry_with_test_tasks() -> TaskRegistry:
    registry = builtin_registry()

    @registry.task("move_x_and_y", params=Targets, resources=lambda _p: axis_resources("x", "y"))
    async def move_x_and_y(ctx: TaskContext[Targets]) -> None:
        """Moves x and y at the same time, through a Stage."""
        p = ctx.params
        async with Stage(ctx, confirm_timeout=10) as stage:
            await stage.confirm("Move x and y?", {"x": p.x, "y": p.y})
            await asyncio.gather(stage.move_to("x", p.x, p.speed), stage.move_to("y", p.y, p.speed))

    @registry.task("unchecked_move", params=Targets, resources=lambda _p: {"axis"})
    async def unchecked_move(ctx: TaskContext[Targets]) -> None:
        """Moves straight through a Stage with whatever speed it was given: no check, no Yes."""
        async with Stage(ctx, confirm_timeout=10) as stage:
            await stage.move_to("tx" if ctx.params.y else "x", ctx.params.x, ctx.params.speed)

    @registry.task("bare_move_then_crash", params=Targets, resources=lambda _p: {"axis:x"})
    async def bare_move_then_crash(ctx: TaskContext[Targets]) -> None:
        """Moves x without a Stage, then fails: only the server-wide safety net can stop x."""
        await ctx.run_blocking(
            ctx.services["controller"].move_absolute, "x", ctx.params.x, ctx.params.speed
        )
        raise RuntimeError("lost the encoder")

    return registry


async def wait_until(predicate: Any, timeout: float = 5.0) -> None:
    """Poll a condition on the controller (nothing to await: it is the hardware's state)."""
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def test_a_stop_refused_on_one_axis_does_not_keep_the_others_moving(
    tmp_path: Path,
) -> None:
    hw = RecordingController(SimulatedController(acceleration=200_000.0, fail_stop_on={"y"}))
    with run_server(
        tmp_path / "data", registry=registry_with_test_tasks(), services={"controller": hw}
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(client, "move_x_and_y")
            async with await WS.open(server.ws_url, task_id) as ws:
                await answer(ws, await ws.until("request_confirmation"), True)
                await wait_until(lambda: hw.position("x") > 0 and hw.position("y") > 0)
                await client.delete(f"/tasks/{task_id}")
                end = await until_terminal(ws)
            assert end["type"] == "task_failed"
            assert end["error"].startswith("Could not stop axes after cancel")
            assert "y: axis 'y': stop command not acknowledged" in end["error"]
            lines = [m["content"] for m in ws.received if m["type"] == "stream"]
            assert any(line.startswith("Stopped x at ") for line in lines)
            assert any(line.startswith("Could not stop y: ") for line in lines)
            assert not hw.is_moving("x") and 0 < hw.position("x") < 5_000.0
            assert hw.is_moving("y")  # the simulated fault: y ignores its stop


async def test_the_software_stop_stops_every_axis_it_can_and_reports_the_others(
    tmp_path: Path,
) -> None:
    hw = RecordingController(SimulatedController(acceleration=200_000.0, fail_stop_on={"x"}))
    with run_server(tmp_path / "data", services={"controller": hw}) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            for axis in ("x", "y", "z"):
                hw.move_absolute(axis, 500.0, 200.0)
            r = await client.post("/hardware/stop")
            assert r.status_code == 502
            body = r.json()
            assert body["stopped"] == ["y", "z", "tx", "ty"] and body["cancelled"] == []
            assert body["errors"] == [
                {"axis": "x", "error": "axis 'x': stop command not acknowledged (simulated fault)"}
            ]
            assert body["detail"].startswith("Could not stop axes: x (")
            await wait_until(lambda: not hw.is_moving("y") and not hw.is_moving("z"))
            assert hw.position("y") < 500.0 and hw.position("z") < 500.0
            assert hw.is_moving("x")


async def test_a_task_that_fails_with_an_axis_moving_gets_it_stopped(
    tmp_path: Path,
) -> None:
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(
        tmp_path / "data", registry=registry_with_test_tasks(), services={"controller": hw}
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(client, "bare_move_then_crash", x=9_000.0, speed=500.0)
            async with await WS.open(server.ws_url, task_id) as ws:
                end = await until_terminal(ws)
            assert end["type"] == "task_failed" and "lost the encoder" in end["error"]
            await wait_until(lambda: not hw.is_moving("x"))
            assert 0 < hw.position("x") < 9_000.0
            assert [axis for _, axis in hw.stops] == ["x"]


@pytest.mark.parametrize(
    ("axis", "speed", "error"),
    [
        ("x", 5e-324, "speed 5e-324: at least 1 µm/s for axis x"),
        ("tx", 1_000.0, "speed 1000.0: at most 20 deg/s for axis tx"),
    ],
)
async def test_the_stage_refuses_an_insane_speed_before_any_command(
    tmp_path: Path, axis: str, speed: float, error: str
) -> None:
    """Defence in depth: a task that skips the submission checks still cannot move at it."""
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(
        tmp_path / "data", registry=registry_with_test_tasks(), services={"controller": hw}
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(
                client, "unchecked_move", x=1.0, y=1.0 if axis == "tx" else 0.0, speed=speed
            )
            async with await WS.open(server.ws_url, task_id) as ws:
                end = await until_terminal(ws)
            assert end["type"] == "task_failed" and end["error"] == error
            assert hw.moves == [] and hw.stops == []  # before the shutdown stops every axis


async def start_a_long_move(server: LiveServer, client: httpx.AsyncClient) -> tuple[str, WS]:
    task_id = await submit(
        client, "axis_movement", axis="x", mode="absolute", target=9_000.0, speed=1_000.0
    )
    ws = await WS.open(server.ws_url, task_id)
    await answer(ws, await ws.until("request_confirmation"), True)
    await until_moving(ws, 0.0)
    return task_id, ws


async def test_closing_the_last_tab_stops_the_move_after_the_grace_period(
    tmp_path: Path,
) -> None:
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(
        tmp_path / "data",
        services={"controller": hw},
        stop_on_disconnect=True,
        stop_on_disconnect_grace=0.3,
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id, ws = await start_a_long_move(server, client)
            await ws.close()
            closed_at = time.monotonic()
            async with await WS.open(server.ws_url, task_id):
                pass  # a tab that comes and goes again restarts the grace period
            reopened_closed_at = time.monotonic()
            async with asyncio.timeout(5):
                while (await client.get(f"/tasks/{task_id}")).json()["status"] == "running":
                    await asyncio.sleep(0.02)
            # Its last message may still be on its way to the store: replayed or live.
            async with await WS.open(server.ws_url, task_id) as tab:
                end = await tab.until("task_cancelled")
    assert end["reason"] == "operator disconnected"
    stop = hw.first_after(hw.stops, closed_at, "x")
    assert stop is not None and stop - reopened_closed_at > 0.25
    assert not hw.is_moving("x") and end["position"] == hw.position("x") < 9_000.0


async def test_a_tab_back_within_the_grace_period_keeps_the_move_going(
    tmp_path: Path,
) -> None:
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(
        tmp_path / "data",
        services={"controller": hw},
        stop_on_disconnect=True,
        stop_on_disconnect_grace=0.3,
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(
                client, "axis_movement", axis="x", distance=800.0, speed=1_000.0
            )  # about 0.8 s: longer than the grace
            ws = await WS.open(server.ws_url, task_id)
            await answer(ws, await ws.until("request_confirmation"), True)
            await until_moving(ws, 0.0)
            await ws.close()
            async with await WS.open(server.ws_url, task_id) as tab:
                end = await until_terminal(tab)
            assert end["type"] == "task_completed" and end["result"]["position"] == 800.0
            assert hw.stops == []


async def test_without_stop_on_disconnect_a_closed_tab_changes_nothing(
    tmp_path: Path,
) -> None:
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(tmp_path / "data", services={"controller": hw}) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(client, "axis_movement", axis="x", distance=300.0, speed=1_000.0)
            ws = await WS.open(server.ws_url, task_id)
            await answer(ws, await ws.until("request_confirmation"), True)
            await until_moving(ws, 0.0)
            await ws.close()
            async with asyncio.timeout(5):
                while (await client.get(f"/tasks/{task_id}")).json()["status"] == "running":
                    await asyncio.sleep(0.02)
            assert (await client.get(f"/tasks/{task_id}")).json()["status"] == "completed"
            assert hw.position("x") == 300.0 and hw.stops == []


async def test_sigterm_stops_a_moving_axis_before_the_server_exits(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with ServerProcess(data) as proc:
        async with httpx.AsyncClient(base_url=proc.url, timeout=10) as client:
            task_id = await submit(
                client, "axis_movement", axis="x", mode="absolute", target=9_000.0, speed=100.0
            )  # 90 s: still moving at SIGTERM
            async with await WS.open(proc.ws_url, task_id) as ws:
                await answer(ws, await ws.until("request_confirmation"), True)
                await until_moving(ws, 0.0)
                code = await asyncio.to_thread(proc.stop)
    assert code in (0, -15)  # uvicorn re-raises SIGTERM once its graceful shutdown is done
    log = proc.output()
    # The task stopped its axis, then the server stopped every axis — all before it finished.
    task_stop = log.index(f"task {task_id}: stopped x at ")
    all_stop = log.index("server shutdown: stopped axes x at ")
    assert task_stop < all_stop < log.index("Application shutdown complete")
    with ServerProcess(data) as again:
        async with httpx.AsyncClient(base_url=again.url, timeout=10) as client:
            assert (await client.get(f"/tasks/{task_id}")).json()["status"] == "interrupted"
            async with await WS.open(again.ws_url, task_id) as tab:
                _, history, _ = await tab.replay()
        await asyncio.to_thread(again.stop)
    assert history[-1]["type"] == "task_interrupted"
    assert history[-1]["reason"] == "server shutdown"
    (stopped,) = [m["content"] for m in history if m["type"] == "stream"]
    position = float(stopped.removeprefix("Stopped x at ").removesuffix(" µm."))
    last_seen = [m["details"]["position"] for m in history if m["type"] == "progress"][-1]
    assert 0 < last_seen <= position < 9_000.0


async def test_a_move_started_with_no_tab_open_is_stopped_after_the_grace_period(
    tmp_path: Path,
) -> None:
    """The last tab closes at the prompt; someone answers Yes over HTTP; nobody watches the
    motion, so it is stopped once the grace period has passed."""
    hw = RecordingController(SimulatedController(acceleration=200_000.0))
    with run_server(
        tmp_path / "data",
        services={"controller": hw},
        stop_on_disconnect=True,
        stop_on_disconnect_grace=0.2,
    ) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            task_id = await submit(
                client, "axis_movement", axis="x", mode="absolute", target=9_000.0, speed=1_000.0
            )
            async with await WS.open(server.ws_url, task_id) as ws:
                prompt = await ws.until("request_confirmation")
            r = await client.post(
                f"/tasks/{task_id}/answer", json={"request_id": prompt["request_id"], "value": True}
            )
            assert r.status_code == 200
            answered_at = time.monotonic()
            # Watch over HTTP: a WebSocket tab would count as an operator coming back.
            async with asyncio.timeout(5):
                while (await client.get(f"/tasks/{task_id}")).json()["status"] != "cancelled":
                    await asyncio.sleep(0.02)
            # The record says cancelled at once; its last message may still be on its way
            # to the store: read until it arrives, replayed or live.
            async with await WS.open(server.ws_url, task_id) as tab:
                end = await tab.until("task_cancelled")
    assert end["reason"] == "operator disconnected"
    assert hw.moves and hw.stops
    assert not hw.is_moving("x") and 0 < hw.position("x") < 9_000.0
    assert hw.first_after(hw.stops, answered_at, "x") is not None
