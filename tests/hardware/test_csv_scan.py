"""``csv_scan``: the positions of an uploaded CSV, checked at submission, confirmed, visited."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from interlock.tasks.positions import MAX_POINTS
from tests.hardware.support import RecordingController, answer, until_terminal
from tests.support.server import LiveServer
from tests.support.ws import WS


async def upload(client: httpx.AsyncClient, text: str | bytes, name: str = "path.csv") -> str:
    data = text.encode() if isinstance(text, str) else text
    r = await client.post("/uploads", files={"file": (name, data, "text/csv")})
    assert r.status_code == 201, r.text
    upload_id: str = r.json()["upload_id"]
    return upload_id


async def submit(client: httpx.AsyncClient, **parameters: Any) -> httpx.Response:
    return await client.post("/tasks", json={"task_type": "csv_scan", "parameters": parameters})


async def test_csv_scan_visits_each_row_after_one_hazard_yes(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    positions = await upload(client, "x, y\n0,0\n\n100,-50\n120,-80\n")
    r = await submit(client, positions=positions, speed=5_000.0)
    assert r.status_code == 202, r.text
    task_id = r.json()["task_id"]
    async with await WS.open(server.ws_url, task_id) as ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["kind"] == "hazard" and hw.moves == []
        assert prompt["prompt"] == "Visit 3 positions from path.csv (x 0 to 120 µm, y -80 to 0 µm)?"
        details = prompt["details"]
        assert details["points"] == 3 and details["file"] == "path.csv"
        assert details["axes"] == {
            "x": {"from": 0.0, "extent": [0.0, 120.0], "speed": 5_000.0, "unit": "um"},
            "y": {"from": 0.0, "extent": [-80.0, 0.0], "speed": 5_000.0, "unit": "um"},
        }
        assert details["estimated_s"] == pytest.approx((120 + 80) / 5_000.0)
        await answer(ws, prompt, True)
        end = await until_terminal(ws)
    assert end["type"] == "task_completed", end
    result = end["result"]
    assert result["axes"] == ["x", "y"] and result["points"] == 3
    assert [(r["x"], r["y"]) for r in result["readings"]] == [(0, 0), (100, -50), (120, -80)]
    assert hw.position("x") == 120.0 and hw.position("y") == -80.0
    progress = [m for m in ws.received if m["type"] == "progress"]
    assert [(m["stage"], m["message"]) for m in progress] == [
        ("scanning", f"point {i}/3") for i in (1, 2, 3)
    ]
    assert [m["details"]["signal"] for m in progress] == [r["signal"] for r in result["readings"]]
    (listed,) = (await client.get(f"/tasks/{task_id}")).json()["artifacts"]
    assert listed["name"] == result["artifact"] == "csv_scan.csv"
    artifact = await client.get(listed["url"])
    rows = list(csv.reader(io.StringIO(artifact.text)))
    assert rows[0] == ["x", "y", "signal"]
    assert [[float(v) for v in row] for row in rows[1:]] == [
        [r["x"], r["y"], r["signal"]] for r in result["readings"]
    ]


async def test_declining_the_scan_moves_nothing(
    server: LiveServer, client: httpx.AsyncClient, hw: RecordingController
) -> None:
    r = await submit(client, positions=await upload(client, "tx\n0.5\n-0.5\n"))
    assert r.status_code == 202, r.text
    async with await WS.open(server.ws_url, r.json()["task_id"]) as ws:
        prompt = await ws.until("request_confirmation")
        assert prompt["details"]["axes"]["tx"]["speed"] == 2.0  # the degree default
        await answer(ws, prompt, False)
        end = await until_terminal(ws)
    assert end["type"] == "task_cancelled" and end["reason"] == "declined"
    assert hw.moves == []


TOO_MANY = "x\n" + "1\n" * (MAX_POINTS + 1)


@pytest.mark.parametrize(
    ("text", "messages"),
    [
        ("x,q\n1,2\n", ["line 1, column 2: unknown axis 'q'; axes: x, y, z, tx, ty"]),
        ("x,x\n1,2\n", ["line 1, column 2: axis 'x' appears twice"]),
        (
            "x,y\n1,2\n3,abc\nnan,4\n",
            ["line 3, column y: 'abc' is not a number", "line 4, column x: 'nan' is not a number"],
        ),
        (
            "z\n100\n6000\n",
            ["line 3, column z: 6000 µm is outside the soft limits of z [0, 5000] µm"],
        ),
        (
            "x,y\n1\n1,2,3\n",
            ["line 2: 1 values, expected 2 (x, y)", "line 3: 3 values, expected 2 (x, y)"],
        ),
        ("", ["the file is empty: write a header naming the axes (e.g. x,y), then rows"]),
        ("x,y\n", ["no positions: the file has a header but no rows"]),
        (TOO_MANY, [f"line {MAX_POINTS + 2}: more than {MAX_POINTS} positions; split the file"]),
        (b"x\n\xff\xfe1\n", ["the file is not UTF-8 text (save the CSV as UTF-8)"]),
    ],
    ids=[
        "unknown-axis",
        "twice",
        "not-numbers",
        "soft-limits",
        "columns",
        "empty",
        "header-only",
        "too-many",
        "not-utf8",
    ],
)
async def test_a_bad_positions_file_is_a_422_naming_line_and_column(
    client: httpx.AsyncClient, hw: RecordingController, text: str | bytes, messages: list[str]
) -> None:
    r = await submit(client, positions=await upload(client, text))
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert [e["msg"] for e in detail] == messages
    assert {tuple(e["loc"]) for e in detail} == {("body", "parameters", "positions")}
    assert (await client.get("/tasks")).json() == [] and hw.moves == []


async def test_ten_problems_at_most_are_reported(client: httpx.AsyncClient) -> None:
    r = await submit(client, positions=await upload(client, "x\n" + "a\n" * 50))
    assert r.status_code == 422
    assert len(r.json()["detail"]) == 10


async def test_a_file_that_is_not_a_csv_or_a_speed_that_does_not_fit_is_refused(
    client: httpx.AsyncClient,
) -> None:
    r = await submit(client, positions=await upload(client, "x\n1\n", name="path.txt"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["msg"] == "'path.txt' is not a .csv file"
    r = await submit(client, positions=await upload(client, "x,tx\n1,0\n"), speed=50.0)
    assert r.status_code == 422
    (error,) = r.json()["detail"]
    assert error["loc"] == ["body", "parameters", "speed"] and "deg/s" in error["msg"]
