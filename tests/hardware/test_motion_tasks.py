"""The scanning tasks end to end: every motion confirmed first, curves streamed, peaks found."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from interlock.hardware import SimulatedController
from tests.hardware.support import RecordingController, answer, submit, until_terminal
from tests.support.server import LiveServer, run_server
from tests.support.ws import WS


@pytest.fixture
def hw() -> RecordingController:
    """A fast stage sitting near the optical peak (x=120, y=-80, z=2500, tx=0.3, ty=-0.2) on
    every axis but the ones a test aligns, so the signal is well above the noise."""
    return RecordingController(
        SimulatedController(
            acceleration=1_000_000.0,
            positions={"x": 100.0, "y": -60.0, "z": 2_400.0},
        )
    )


@pytest.fixture
def server(tmp_path: Path, hw: RecordingController) -> Iterator[LiveServer]:
    with run_server(tmp_path / "data", services={"controller": hw}) as live:
        yield live


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
        yield http


async def run_confirming(
    server: LiveServer, hw: RecordingController, task_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """Say Yes to every prompt, checking nothing moved while it was open.

    Returns the terminal message, the prompts and every progress message.
    """
    prompts = []
    async with await WS.open(server.ws_url, task_id) as ws:
        while True:
            msg = await ws.recv()
            if msg["type"] == "request_confirmation":
                assert msg["kind"] == "hazard"
                moves = len(hw.moves)
                await ws.send({"type": "ping"})
                await ws.until("pong")
                assert len(hw.moves) == moves, "an axis moved before the Yes"
                assert not any(s["moving"] for s in hw.status().values())
                prompts.append(msg)
                await answer(ws, msg, True)
            elif msg["type"].startswith("task_"):
                progress = [m for m in ws.received if m["type"] == "progress"]
                return msg, prompts, progress


async def test_focus_alignment_scans_then_moves_to_the_peak_after_a_second_yes(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(
        client, "focus_alignment", start=1_500.0, stop=3_500.0, points=21, speed=10_000.0
    )
    end, prompts, progress = await run_confirming(server, hw, task_id)
    assert end["type"] == "task_completed", end
    scan_prompt, move_prompt = prompts
    assert scan_prompt["details"]["scan"] == [1_500.0, 3_500.0]
    assert scan_prompt["details"]["axis"] == "z" and scan_prompt["details"]["points"] == 21
    assert move_prompt["details"]["from"] == 3_500.0
    result = end["result"]
    assert len(result["scan"]["x"]) == len(result["scan"]["y"]) == 21
    assert result["scan"]["x"][0] == 1_500.0 and result["scan"]["x"][-1] == 3_500.0
    assert result["position"] == pytest.approx(2_500.0, abs=25.0)
    assert move_prompt["details"]["to"] == result["position"] == hw.position("z")
    points = [m["details"] for m in progress if m["stage"] == "focus" and "x" in m["details"]]
    assert [p["x"] for p in points] == result["scan"]["x"]
    assert [p["y"] for p in points] == result["scan"]["y"]


async def test_declining_the_move_to_the_peak_leaves_the_axis_where_the_scan_ended(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(
        client, "focus_alignment", start=2_000.0, stop=3_000.0, points=5, speed=10_000.0
    )
    async with await WS.open(server.ws_url, task_id) as ws:
        await answer(ws, await ws.until("request_confirmation"), True)
        await answer(ws, await ws.until("request_confirmation"), False)
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled" and end["reason"] == "declined"
    assert hw.position("z") == 3_000.0 and not hw.is_moving("z")


async def test_flat_alignment_peaks_x_then_y(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(client, "flat_alignment", span=300.0, points=21, speed=10_000.0)
    end, prompts, _ = await run_confirming(server, hw, task_id)
    assert end["type"] == "task_completed", end
    assert [(p["details"]["axis"], "to" in p["details"]) for p in prompts] == [
        ("x", False),
        ("x", True),
        ("y", False),
        ("y", True),
    ]
    assert prompts[0]["details"]["scan"] == [-50.0, 250.0]  # 300 um around x=100
    result = end["result"]
    assert result["position"]["x"] == pytest.approx(120.0, abs=6.0)
    assert result["position"]["y"] == pytest.approx(-80.0, abs=6.0)
    assert set(result["scans"]) == {"x", "y"} and len(result["scans"]["y"]["y"]) == 21
    assert result["signal"] > 0.9


async def test_angle_adjustment_runs_a_coarse_then_a_fine_phase_each_confirmed(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(
        client,
        "angle_adjustment",
        coarse_range=2.0,
        coarse_points=11,
        fine_range=0.4,
        fine_points=9,
        speed=20.0,
    )
    end, prompts, progress = await run_confirming(server, hw, task_id)
    assert end["type"] == "task_completed", end
    assert [p["details"]["phase"] for p in prompts] == ["coarse", "fine"]
    assert prompts[0]["details"]["axes"]["tx"] == {"from": 0.0, "scan": [-1.0, 1.0]}
    stages = [m["stage"] for m in progress]
    assert stages.index("fine") > stages.index("coarse") and stages[-1] == "fine"
    result = end["result"]
    assert result["position"]["tx"] == pytest.approx(0.3, abs=0.03)
    assert result["position"]["ty"] == pytest.approx(-0.2, abs=0.03)
    assert len(result["phases"]["fine"]["ty"]["x"]) == 9
    fine_tx = prompts[1]["details"]["axes"]["tx"]
    assert fine_tx["scan"] == pytest.approx([fine_tx["from"] - 0.2, fine_tx["from"] + 0.2])


async def test_profile_measurement_returns_the_series_and_a_csv_download(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(
        client, "profile_measurement", axis="x", start=0.0, stop=240.0, points=25, speed=10_000.0
    )
    end, prompts, progress = await run_confirming(server, hw, task_id)
    assert end["type"] == "task_completed", end
    assert len(prompts) == 1 and prompts[0]["details"]["scan"] == [0.0, 240.0]
    # The console shows the stage beside the message: the message does not repeat it.
    assert [(m["stage"], m["message"]) for m in progress] == [
        ("measuring", f"x point {i}/25") for i in range(1, 26)
    ]
    series = end["result"]["series"]
    assert series["x"] == [10.0 * i for i in range(25)] and len(series["y"]) == 25
    assert max(series["y"]) == series["y"][12]  # the peak at x=120
    info = (await client.get(f"/tasks/{task_id}")).json()
    (artifact,) = info["artifacts"]
    assert artifact == {
        "name": "profile.csv",
        "content_type": "text/csv",
        "url": f"/tasks/{task_id}/artifacts/profile.csv",
    }
    r = await client.get(artifact["url"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["position", "signal"]
    assert [[float(v) for v in row] for row in rows[1:]] == [
        list(pair) for pair in zip(series["x"], series["y"], strict=True)
    ]


async def test_a_profile_along_a_tilt_axis_uses_the_degree_default_speed(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    task_id = await submit(client, "profile_measurement", axis="tx", start=-1.0, stop=1.0, points=5)
    end, prompts, _ = await run_confirming(server, hw, task_id)
    assert end["type"] == "task_completed", end
    assert prompts[0]["details"]["speed"] == 2.0 and prompts[0]["details"]["unit"] == "deg"
    assert prompts[0]["prompt"] == "Measure a profile along tx from -1 to 1 deg in 5 points?"
    assert end["result"]["series"]["x"] == [-1.0, -0.5, 0.0, 0.5, 1.0]
    assert end["result"]["series"]["x_label"] == "tx (deg)"
