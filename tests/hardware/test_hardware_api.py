"""REST for the hardware and the submission rules of motion tasks: 422s, 409s, the stop."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.hardware.support import RecordingController, submit
from tests.support.server import LiveServer
from tests.support.ws import WS


async def test_get_hardware_lists_every_axis_with_state_and_limits(
    client: httpx.AsyncClient, hw: RecordingController
) -> None:
    hw.move_absolute("z", 4_000.0, 100.0)
    body = (await client.get("/hardware")).json()
    assert body["controller"] == "simulated" and body["connected"] is True
    axes = {axis["id"]: axis for axis in body["axes"]}
    assert list(axes) == ["x", "y", "z", "tx", "ty"]
    assert axes["x"] == {
        "id": "x",
        "name": "X (lateral)",
        "unit": "um",
        "position": 0.0,
        "moving": False,
        "min": -10_000.0,
        "max": 10_000.0,
        "state": "idle",
        "fault": None,
    }
    assert axes["z"]["state"] == "moving"
    assert axes["tx"]["unit"] == "deg" and axes["tx"]["max"] == 5.0
    assert axes["z"]["moving"] is True and 0 < axes["z"]["position"] < 4_000.0
    hw.stop("z")


def _errors(r: httpx.Response) -> dict[str, str]:
    assert r.status_code == 422, r.text
    return {".".join(map(str, e["loc"][2:])): e["msg"] for e in r.json()["detail"]}


async def post(client: httpx.AsyncClient, task_type: str, **parameters: Any) -> httpx.Response:
    return await client.post("/tasks", json={"task_type": task_type, "parameters": parameters})


async def test_soft_limit_violations_are_422_at_submission_and_nobody_is_asked(
    client: httpx.AsyncClient, hw: RecordingController
) -> None:
    r = await post(client, "axis_movement", axis="x", mode="absolute", target=10_001.0)
    assert _errors(r) == {"target": "10001 µm is outside the soft limits of x [-10000, 10000] µm"}
    r = await post(client, "axis_movement", axis="z", mode="relative", distance=-1.0)
    assert "outside the soft limits of z [0, 5000]" in _errors(r)["distance"]
    r = await post(client, "profile_measurement", axis="y", start=0.0, stop=-20_000.0)
    assert list(_errors(r)) == ["stop"]
    r = await post(client, "focus_alignment", start=-5.0)
    assert list(_errors(r)) == ["start"]
    assert (await client.get("/tasks")).json() == []
    assert hw.moves == []


@pytest.mark.parametrize(
    ("task_type", "parameters", "field", "message"),
    [
        ("axis_movement", {"mode": "relative"}, "distance", "distance is required"),
        ("axis_movement", {"mode": "absolute", "distance": 5}, "target", "target is required"),
        ("axis_movement", {"distance": 5, "speed": 0}, "speed", "greater than 0"),
        ("axis_movement", {"distance": 5, "speed": 20_000}, "speed", "at most 10000 µm/s for"),
        (
            "axis_movement",
            {"axis": "tx", "distance": 1, "speed": 50},
            "speed",
            "at most 20 deg/s for axis tx",
        ),
        (
            "axis_movement",
            {"axis": "w", "distance": 5},
            "axis",
            "unknown axis 'w'; axes: x, y, z, tx, ty",
        ),
        ("axis_movement", {"mode": "sideways", "distance": 5}, "mode", "'relative' or"),
        ("angle_adjustment", {"axes": ["tx", "x"]}, "axes.1", "axis 'x' is in µm, not deg"),
        ("flat_alignment", {"axes": ["x", "x"]}, "axes", "axes must be different"),
        ("profile_measurement", {"start": 5, "stop": 5}, "stop", "stop must differ"),
        # Speeds have a floor per unit: a positive speed is not enough.
        ("axis_movement", {"distance": 5, "speed": 5e-324}, "speed", "at least 1 µm/s for"),
        ("axis_movement", {"axis": "ty", "distance": 1, "speed": 1e-3}, "speed", "0.01 deg/s"),
        ("focus_alignment", {"speed": 0.5}, "speed", "at least 1 µm/s for axis z"),
        ("profile_measurement", {"start": 0, "stop": 5, "speed": 1e4 + 1}, "speed", "at most"),
        ("angle_adjustment", {"speed": 21}, "speed", "at most 20 deg/s for axis tx"),
        ("angle_adjustment", {"speed": 0.001}, "speed", "at least 0.01 deg/s for axis tx"),
        ("flat_alignment", {"speed": 0.1}, "speed", "at least 1 µm/s for axis x"),
        # Spans and steps are in the axis' own unit, and must fit its travel and resolution.
        ("flat_alignment", {"axes": ["x", "tx"]}, "axes.1", "axis 'tx' is in deg, not µm"),
        ("flat_alignment", {"span": 30_000}, "span", "30000 µm is wider than the travel of x"),
        ("flat_alignment", {"span": 5, "points": 1001}, "points", "finer than the 0.01 µm"),
        ("angle_adjustment", {"coarse_range": 12}, "coarse_range", "12 deg is wider than"),
        ("angle_adjustment", {"fine_range": 5e-4}, "fine_points", "0.0001 deg resolution"),
        ("focus_alignment", {"start": 2_000, "stop": 2_000.5, "points": 101}, "points", "µm"),
        ("profile_measurement", {"start": 0, "stop": 1, "points": 1001}, "points", "at most 101"),
    ],
)
async def test_bad_parameters_are_422_on_the_field(
    client: httpx.AsyncClient,
    task_type: str,
    parameters: dict[str, Any],
    field: str,
    message: str,
) -> None:
    errors = _errors(await post(client, task_type, **parameters))
    assert field in errors and message in errors[field], errors


async def test_two_tasks_never_hold_the_same_axis(client: httpx.AsyncClient) -> None:
    on_x = await submit(client, "axis_movement", axis="x", distance=10.0)
    r = await post(client, "axis_movement", axis="x", distance=-10.0)
    assert r.status_code == 409
    assert r.json() == {"detail": f"A task is already running: {on_x}"}
    on_y = await submit(client, "axis_movement", axis="y", distance=10.0)  # another axis: fine
    # A task that needs the whole controller conflicts with any axis task...
    r = await post(client, "focus_alignment")
    assert r.status_code == 409 and r.json()["detail"].endswith(on_x)
    # ...and waits for all of them when queued.
    queued = (
        await client.post("/tasks", json={"task_type": "focus_alignment", "queue": True})
    ).json()
    assert queued["status"] == "queued"
    await client.delete(f"/tasks/{on_x}")
    assert (await client.get(f"/tasks/{queued['task_id']}")).json()["status"] == "queued"
    await client.delete(f"/tasks/{on_y}")
    async with asyncio.timeout(5):
        while (await client.get(f"/tasks/{queued['task_id']}")).json()["status"] != "waiting":
            await asyncio.sleep(0.01)
    r = await post(client, "axis_movement", axis="ty", distance=0.1)
    assert r.status_code == 409 and r.json()["detail"].endswith(queued["task_id"])
    await client.delete(f"/tasks/{queued['task_id']}")


async def test_hardware_stop_cancels_every_axis_task_even_one_waiting_for_a_yes(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    waiting = await submit(client, "axis_movement", axis="z", distance=100.0)
    queued = (
        await client.post(
            "/tasks",
            json={
                "task_type": "profile_measurement",
                "queue": True,
                "parameters": {"start": 0, "stop": 5},
            },
        )
    ).json()
    async with await WS.open(server.ws_url, waiting) as ws:
        await ws.until("request_confirmation")
        r = await client.post("/hardware/stop")
        end = await ws.until("task_cancelled")
    assert r.status_code == 200
    assert r.json() == {
        "stopped": ["x", "y", "z", "tx", "ty"],
        "cancelled": [queued["task_id"], waiting],
        "errors": [],
    }
    assert end["reason"] == "hardware stop"
    assert (await client.get(f"/tasks/{queued['task_id']}")).json()["status"] == "cancelled"
    assert hw.moves == []


async def test_hardware_stop_with_nothing_running_stops_the_axes_and_cancels_nothing(
    client: httpx.AsyncClient, hw: RecordingController
) -> None:
    hw.move_absolute("y", 5_000.0, 1_000.0)
    r = await client.post("/hardware/stop")
    assert r.status_code == 200
    assert r.json()["cancelled"] == [] and r.json()["stopped"] == ["x", "y", "z", "tx", "ty"]
    assert {axis for _, axis in hw.stops} == {"x", "y", "z", "tx", "ty"}
    assert 0 < hw.position("y") < 5_000.0


async def test_the_default_speed_of_every_motion_task_is_valid_on_every_axis(
    client: httpx.AsyncClient,
) -> None:
    """Leaving ``speed`` out picks the axis unit's default, whatever the axis."""
    for axis in ("x", "z", "tx"):
        r = await post(client, "focus_alignment", axis=axis)
        assert r.status_code == 202, r.text
        await client.delete(f"/tasks/{r.json()['task_id']}")
        r = await post(client, "profile_measurement", axis=axis, start=0.0, stop=1.0, points=11)
        assert r.status_code == 202, r.text
        await client.delete(f"/tasks/{r.json()['task_id']}")


async def test_every_axis_parameter_is_marked_for_the_consoles_axis_select(
    client: httpx.AsyncClient,
) -> None:
    types = {t["name"]: t for t in (await client.get("/task-types")).json()}
    marked = {}
    for name in ("axis_movement", "angle_adjustment", "focus_alignment", "flat_alignment"):
        properties = types[name]["parameters_schema"]["properties"]
        for field, schema in properties.items():
            widget = schema.get("x-interlock-widget") or schema.get("items", {}).get(
                "x-interlock-widget"
            )
            if widget is not None:
                marked[(name, field)] = (widget, schema["type"])
    assert marked == {
        ("axis_movement", "axis"): ("axis", "string"),
        ("angle_adjustment", "axes"): ("axis", "array"),
        ("focus_alignment", "axis"): ("axis", "string"),
        ("flat_alignment", "axes"): ("axis", "array"),
    }
    profile = types["profile_measurement"]["parameters_schema"]["properties"]
    assert profile["axis"]["x-interlock-widget"] == "axis"
