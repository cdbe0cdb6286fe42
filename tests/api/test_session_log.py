"""The whole session log: GET /tasks/{id}/messages pages through every stored message, while
a connecting tab still replays only the window (INTERLOCK_HISTORY_SIZE)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS


async def start(client: httpx.AsyncClient, task_type: str, **params: Any) -> str:
    r = await client.post("/tasks", json={"task_type": task_type, "parameters": params})
    assert r.status_code == 202, r.text
    task_id: str = r.json()["task_id"]
    return task_id


async def finished(ws_url: str, sid: str) -> int:
    """Watch the session to its end; its last seq."""
    async with await WS.open(ws_url, sid) as tab:
        done = await tab.until("task_completed")
        seq: int = done["seq"]
        return seq


async def page(client: httpx.AsyncClient, sid: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/tasks/{sid}/messages", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def test_the_log_pages_through_every_message_while_replay_keeps_its_window(
    tmp_path: Path,
) -> None:
    # finished_cache=0: the finished session is evicted and reloaded from the store.
    with run_server(
        tmp_path / "d", registry=make_registry(), history_size=10, finished_cache=0
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            sid = await start(client, "chatty", count=250)
            last = await finished(server.ws_url, sid)
            seen: list[dict[str, Any]] = []
            after = 0
            while True:
                body = await page(client, sid, after_seq=after, limit=100)
                assert body["last_seq"] == last and body["first_seq"] == 1
                assert len(body["messages"]) <= 100
                if not body["messages"]:
                    break
                seen += body["messages"]
                after = body["messages"][-1]["seq"]
            assert [m["seq"] for m in seen] == list(range(1, last + 1))  # no gap, no duplicate
            lines = [m["content"] for m in seen if m["type"] == "stream"]
            assert lines == [f"line {i}" for i in range(1, 251)]
            assert seen[-1]["type"] == "task_completed"

            # Backwards from the live tail, as the console's "Load earlier output" does.
            back = await page(client, sid, before_seq=last + 1, limit=30)
            assert [m["seq"] for m in back["messages"]] == list(range(last - 29, last + 1))
            back = await page(client, sid, before_seq=back["messages"][0]["seq"], limit=30)
            assert [m["seq"] for m in back["messages"]] == list(range(last - 59, last - 29))
            window = await page(client, sid, after_seq=5, before_seq=9, limit=1000)
            assert [m["seq"] for m in window["messages"]] == [6, 7, 8]

            async with await WS.open(server.ws_url, sid) as tab:
                start_msg, items, complete = await tab.replay()
            assert start_msg["truncated"] is True and len(items) == 10
            assert [m["seq"] for m in items] == list(range(last - 9, last + 1))
            assert complete["last_seq"] == last


async def test_beyond_the_log_limit_the_oldest_messages_are_dropped(tmp_path: Path) -> None:
    with run_server(
        tmp_path / "d", registry=make_registry(), history_size=10, log_max_messages=50
    ) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            sid = await start(client, "chatty", count=120)
            last = await finished(server.ws_url, sid)
            body = await page(client, sid, limit=1000)
            assert [m["seq"] for m in body["messages"]] == list(range(last - 49, last + 1))
            assert (body["first_seq"], body["last_seq"]) == (last - 49, last)


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=1001",
        "limit=ten",
        "after_seq=-1",
        "before_seq=0",
        "after_seq=1.5",
    ],
)
async def test_bad_paging_gets_422_and_an_unknown_task_404(tmp_path: Path, query: str) -> None:
    with run_server(tmp_path / "d", registry=make_registry()) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            sid = await start(client, "chatty", count=1)
            r = await client.get(f"/tasks/{sid}/messages?{query}")
            assert r.status_code == 422, r.text
            assert r.json()["detail"][0]["loc"][0] == "query"
            r = await client.get("/tasks/no-such-task/messages")
            assert r.status_code == 404
            assert r.json() == {"detail": "Task not found: no-such-task"}


async def test_the_task_list_filters_by_type_text_and_date_and_pages(tmp_path: Path) -> None:
    with run_server(tmp_path / "d", registry=make_registry(), max_concurrent=10) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            chatty = [await start(client, "chatty", count=1) for _ in range(3)]
            asked = await start(client, "confirm_once", prompt="Open the Shutter?")
            everything = (await client.get("/tasks")).json()
            assert [t["task_id"] for t in everything] == [asked, *reversed(chatty)]

            async def ids(**params: Any) -> list[str]:
                r = await client.get("/tasks", params=params)
                assert r.status_code == 200, r.text
                return [t["task_id"] for t in r.json()]

            assert await ids(task_type="chatty") == list(reversed(chatty))
            assert await ids(task_type="nope") == []
            assert await ids(q="shutter") == [asked]  # in the parameters, any case
            assert await ids(q=chatty[1][:8]) == [chatty[1]]  # the id
            assert await ids(task_type="chatty", limit=2) == [chatty[2], chatty[1]]
            assert await ids(task_type="chatty", limit=2, offset=2) == [chatty[0]]
            created = [t["created_at"] for t in everything]
            assert await ids(created_after=created[2]) == [asked, chatty[2], chatty[1]]
            assert await ids(created_before=created[2]) == [chatty[0]]
            bare = created[1].replace("+00:00", "")  # no offset: UTC
            assert await ids(created_after=bare, created_before=created[0]) == [chatty[2]]

            for bad in (
                {"created_after": "yesterday"},
                {"created_after": created[0], "created_before": created[0]},
                {"q": ""},
                {"q": "x" * 201},
                {"offset": -1},
            ):
                r = await client.get("/tasks", params=bad)
                assert r.status_code == 422, (bad, r.text)
                assert r.json()["detail"][0]["loc"][0] == "query", r.text
