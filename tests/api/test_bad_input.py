"""Bad input never wedges anything: each gets a clear error, nothing is lost or left stuck."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.support.server import LiveServer
from tests.support.ws import WS

NESTED_65 = '{"type": "user_input", "values": {"name": ' + "[" * 64 + "]" * 64 + "}}"

#: (raw text sent, the error code it must get), for a tab answering a form.
BAD_FORM_ANSWERS = [
    ('{"type": ["confirm"]}', "unknown_type"),
    ('{"type": {}}', "unknown_type"),
    ('{"type": 7}', "unknown_type"),
    ('{"type": null}', "unknown_type"),
    ('{"type": "user_input", "request_id": ["r"], "values": {}}', "validation_error"),
    ('{"type": "user_input", "request_id": {"r": 1}, "values": {}}', "validation_error"),
    ('{"type": "user_input", "values": {"name": "\\ud800", "count": 1}}', "invalid_json"),
    ('{"type": "user_input", "values": {"name": "a\\udfffb", "count": 1}}', "invalid_json"),
    ('{"type": "user_input", "values": {"\\udc00": "a", "count": 1}}', "invalid_json"),
    ('{"type": "user_input", "values": {"name": ["\\ud83d"], "count": 1}}', "invalid_json"),
    ('{"type": "user_input", "values": {"name": "a", "count": NaN}}', "invalid_json"),
    ('{"type": "user_input", "values": {"name": "a", "count": Infinity}}', "invalid_json"),
    ('{"type": "user_input", "values": {"name": "a", "count": -Infinity}}', "invalid_json"),
    (
        '{"type": "user_input", "values": {"name": "a", "count": 1' + "0" * 5000 + "}}",
        "invalid_json",
    ),
    (NESTED_65, "invalid_json"),
]


async def start(client: httpx.AsyncClient, task_type: str, **params: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def assert_gap_free(server: LiveServer, client: httpx.AsyncClient, sid: str) -> None:
    """A fresh tab replays seq 1..last_seq with nothing missing."""
    async with await WS.open(server.ws_url, sid) as ws:
        _, items, complete = await ws.replay()
    seqs = [m["seq"] for m in items]
    assert seqs == list(range(1, complete["last_seq"] + 1))
    assert (await client.get(f"/tasks/{sid}")).json()["last_seq"] == complete["last_seq"]


async def test_bad_answers_to_a_form_get_errors_and_the_form_stays_open(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start(client, "ask_once")
    async with await WS.open(server.ws_url, sid) as ws:
        req = await ws.until("request_user_input")
        for text, code in BAD_FORM_ANSWERS:
            await ws.send(text)
            err = await ws.until("error")
            assert err["code"] == code, (text[:80], err)
        task = (await client.get(f"/tasks/{sid}")).json()
        assert task["status"] == "waiting"
        assert task["pending_request"]["request_id"] == req["request_id"]
        # Still the same connection: the next valid answer is taken.
        values = {"name": "\U0001f600", "count": 2}
        await ws.send({"type": "user_input", "request_id": req["request_id"], "values": values})
        done = await ws.until("task_completed")
    assert done["result"]["name"] == "\U0001f600" and done["result"]["count"] == 2
    await assert_gap_free(server, client, sid)


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "confirm", "value": true, "request_id": ["r"]}',
        '{"type": "confirm", "value": true, "request_id": {}}',
        '{"type": ["confirm"], "value": true}',
        '{"type": "confirm", "value": true, "request_id": "\\udc80"}',
    ],
)
async def test_bad_answers_to_a_confirmation_leave_it_open(
    client: httpx.AsyncClient, server: LiveServer, text: str
) -> None:
    sid = await start(client, "confirm_once", before=3)
    async with await WS.open(server.ws_url, sid) as ws:
        req = await ws.until("request_confirmation")
        await ws.send(text)
        assert (await ws.until("error"))["code"] in {
            "unknown_type",
            "validation_error",
            "invalid_json",
        }
        assert (await client.get(f"/tasks/{sid}")).json()["status"] == "waiting"
        await ws.send({"type": "confirm", "value": True, "request_id": req["request_id"]})
        done = await ws.until("task_completed")
    assert done["result"] == {"answer": True}
    await assert_gap_free(server, client, sid)


async def test_a_surrogate_pair_is_one_character_not_an_error(
    client: httpx.AsyncClient, server: LiveServer
) -> None:
    sid = await start(client, "ask_once")
    async with await WS.open(server.ws_url, sid) as ws:
        await ws.until("request_user_input")
        await ws.send('{"type": "user_input", "values": {"name": "\\ud83d\\ude00", "count": 1}}')
        done = await ws.until("task_completed")
    assert done["result"]["name"] == "\U0001f600"
    assert json.loads(json.dumps(done))["result"]["name"] == "\U0001f600"
