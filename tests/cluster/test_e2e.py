"""Two ``interlock serve --no-worker`` instances and one ``interlock worker`` on one Redis
prefix: tabs on either instance see one session, answers from either reach the worker, the
first answer wins, and a tab moves between instances with ``since``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.cluster import Cluster, Cursor, cluster, session_messages, submit
from tests.support.redis import URL, redis_prefix
from tests.support.ws import WS

ROUNDS = 100


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the module: starting three processes is most of its time. A tab
    answers 100 prompts in a second or two: far above the rate allowed for people. Slots
    for several tasks: one a failed test left waiting does not fail the next."""
    root = tmp_path_factory.mktemp("cluster")
    env = {"INTERLOCK_WS_RATE": "1000", "INTERLOCK_MAX_CONCURRENT": "8"}
    with (
        redis_prefix(URL) as prefix,
        cluster(root, URL, prefix, instances=2, workers=1, **env) as group,
    ):
        yield group


def confirm(prompt: dict[str, Any], value: bool) -> dict[str, Any]:
    return {"type": "confirm", "value": value, "request_id": prompt["request_id"]}


async def test_tabs_on_both_instances_follow_one_session_and_an_answer_from_b_resolves_on_a(
    nodes: Cluster,
) -> None:
    a, b = nodes.servers
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as http_a:
        task_id = (await submit(http_a, "confirm_many", count=1, lines=3))["task_id"]
    async with (
        await WS.open(a.ws_url, task_id) as tab_a,
        await WS.open(b.ws_url, task_id) as tab_b,
    ):
        prompt = await tab_a.until("request_confirmation")
        assert await tab_b.until("request_confirmation") == prompt
        await tab_b.send(confirm(prompt, True))
        resolved = await tab_a.until("request_resolved")
        assert resolved["request_id"] == prompt["request_id"]
        assert resolved["value"] is True and resolved["reason"] == "answered"
        done = await tab_a.until("task_completed")
        await tab_b.until("task_completed")
    assert done["result"] == {"answers": [True]}
    seen = session_messages(tab_a)
    assert seen == session_messages(tab_b), "the two instances showed different sessions"
    assert [m["seq"] for m in seen] == list(range(1, len(seen) + 1))
    assert [m["content"] for m in seen if m["type"] == "stream"] == [
        f"prompt 1, line {i}" for i in range(3)
    ]
    for server in (a, b):
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
            task = (await http.get(f"/tasks/{task_id}")).json()
        assert task["status"] == "completed" and task["result"] == {"answers": [True]}


async def test_a_prompt_opened_before_the_other_instance_looks_is_pending_there_too(
    nodes: Cluster,
) -> None:
    a, b = nodes.servers
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=10) as http_a,
        httpx.AsyncClient(base_url=b.url, timeout=10) as http_b,
    ):
        task_id = (await submit(http_a, "confirm_many", count=1))["task_id"]
        async with await WS.open(a.ws_url, task_id) as tab_a:
            prompt = await tab_a.until("request_confirmation")
            # B has not seen this session yet: it loads it from the store, prompt included.
            task = (await http_b.get(f"/tasks/{task_id}")).json()
            assert task["status"] == "waiting"
            assert (task["pending_request"] or {}).get("request_id") == prompt["request_id"]
            async with await WS.open(b.ws_url, task_id) as tab_b:
                start, replayed, _ = await tab_b.replay()
                assert prompt in replayed
                assert start["pending_request_id"] == prompt["request_id"], start
                await tab_b.send(confirm(prompt, False))
                assert (await tab_b.until("task_completed"))["result"] == {"answers": [False]}


async def test_both_tabs_answer_each_of_100_prompts_at_once_and_exactly_one_wins_each_time(
    nodes: Cluster,
) -> None:
    a, b = nodes.servers
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as http_b:
        task_id = (await submit(http_b, "confirm_many", count=ROUNDS))["task_id"]
    winners: list[bool] = []
    async with (
        await WS.open(a.ws_url, task_id) as tab_a,
        await WS.open(b.ws_url, task_id) as tab_b,
    ):
        # Tab A always says Yes, tab B always No: the resolution says whose answer won.
        tabs = {True: tab_a, False: tab_b}
        cursors = {True: Cursor(tab_a), False: Cursor(tab_b)}
        for _ in range(ROUNDS):
            prompt_a, prompt_b = await asyncio.gather(
                *(c.next("request_confirmation") for c in cursors.values())
            )
            assert prompt_a == prompt_b
            await asyncio.gather(*(tab.send(confirm(prompt_a, v)) for v, tab in tabs.items()))
            resolved_a, resolved_b = await asyncio.gather(
                *(c.next("request_resolved") for c in cursors.values())
            )
            assert resolved_a == resolved_b
            assert resolved_a["request_id"] == prompt_a["request_id"]
            won: bool = resolved_a["value"]
            winners.append(won)
            # The loser is told (one error per round it lost); the winner is not (checked
            # again once every reply is in).
            await cursors[not won].count("error", winners.count(won))
            winner_errors = [m for m in tabs[won].received if m["type"] == "error"]
            assert len(winner_errors) <= winners.count(not won)
        done, _ = await asyncio.gather(*(c.next("task_completed") for c in cursors.values()))
        for tab in tabs.values():  # every reply to a tab's answers is in before its pong
            await tab.send({"type": "ping"})
            await tab.until("pong")
    assert done["result"] == {"answers": winners}
    for value, tab in tabs.items():
        errors = [m for m in tab.received if m["type"] == "error"]
        assert [e["code"] for e in errors] == ["already_answered"] * winners.count(not value)
        resolved = [m for m in tab.received if m["type"] == "request_resolved"]
        assert len({m["request_id"] for m in resolved}) == len(resolved) == ROUNDS
    assert session_messages(tab_a) == session_messages(tab_b)
    async with httpx.AsyncClient(base_url=a.url, timeout=10) as http_a:
        requests = (await http_a.get(f"/tasks/{task_id}/requests")).json()
    assert [(r["status"], r["answer"]) for r in requests] == [("answered", w) for w in winners]


async def test_a_tab_moving_to_the_other_instance_with_since_gets_exactly_what_it_missed(
    nodes: Cluster,
) -> None:
    a, b = nodes.servers
    async with httpx.AsyncClient(base_url=b.url, timeout=10) as http_b:
        task_id = (await submit(http_b, "confirm_many", count=2, lines=5))["task_id"]
        async with await WS.open(b.ws_url, task_id) as witness:  # sees the whole session
            tab = await WS.open(a.ws_url, task_id)
            first = await tab.until("request_confirmation")
            await tab.close()
            before = session_messages(tab)
            since = before[-1]["seq"]
            # While the tab is away: the first prompt is answered, more lines, a second prompt.
            r = await http_b.post(
                f"/tasks/{task_id}/answer", json={"request_id": first["request_id"], "value": True}
            )
            assert r.status_code == 200, r.text
            await witness.until("request_confirmation")
            second = await witness.until("request_confirmation")
            async with await WS.open(b.ws_url, task_id, since=since) as moved:
                _, replayed, complete = await moved.replay()
                assert replayed, "nothing was replayed"
                assert replayed[0]["seq"] == since + 1
                assert second in replayed
                await moved.send(confirm(second, False))
                done = await moved.until("task_completed")
            await witness.until("task_completed")
    assert done["result"] == {"answers": [True, False]}
    missed = [m for m in session_messages(witness) if since < m["seq"] <= complete["last_seq"]]
    assert replayed == missed
    assert before + session_messages(moved) == session_messages(witness), "a gap or a duplicate"
