"""Presence over real WebSockets: who watches, who is answering; informational, bounded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from interlock.auth import Role
from tests.support.auth import seed
from tests.support.server import run_server
from tests.support.tasks import make_registry
from tests.support.ws import WS
from tests.support.wsclose import prompted

Check = Callable[[dict[str, Any]], bool]


async def presence_until(tab: WS, check: Check) -> tuple[dict[str, Any], int]:
    """Read until a ``presence`` message passes ``check``; it and how many came."""
    count = 0
    while True:
        msg = await tab.recv()
        if msg["type"] != "presence":
            continue
        count += 1
        if check(msg):
            return msg, count


def watching(msg: dict[str, Any]) -> dict[str | None, str | None]:
    """user -> the request they are answering."""
    return {w["user"]: w["answering"] for w in msg["watchers"]}


async def test_each_tab_sees_who_watches_and_who_is_answering(tmp_path: Path) -> None:
    people = await seed(tmp_path / "data")
    with run_server(people.data_dir, registry=make_registry(), auth=True) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            operator = people.headers(Role.OPERATOR)
            r = await client.post("/tasks", json={"task_type": "confirm_once"}, headers=operator)
            sid = r.json()["task_id"]
        otto = await WS.open(server.ws_url, sid, additional_headers=operator)
        vera = await WS.open(server.ws_url, sid, additional_headers=people.headers(Role.VIEWER))
        script = await WS.open(server.ws_url, sid, additional_headers=operator)
        try:
            prompt = await prompted(otto)
            await prompted(vera)
            await prompted(script)
            rid = prompt["request_id"]
            await otto.send({"type": "presence"})
            await vera.send({"type": "presence"})
            both, _ = await presence_until(otto, lambda m: len(m["watchers"]) == 2)
            assert watching(both) == {"otto": None, "vera": None} and both["tabs"] == 3
            assert (
                both["you"]
                == next(w for w in both["watchers"] if w["user"] == "otto")["connection_id"]
            )

            await otto.send({"type": "presence", "answering": rid})
            seen, _ = await presence_until(vera, lambda m: watching(m)["otto"] == rid)
            assert seen["you"] != both["you"]

            # A viewer cannot claim to answer; a stale request id is ignored, not an error.
            await vera.send({"type": "presence", "answering": rid})
            refused = await vera.until("error")
            assert refused["code"] == "forbidden" and "operator" in refused["message"]
            await otto.send({"type": "presence", "answering": "stale"})
            await presence_until(vera, lambda m: watching(m)["otto"] is None)

            # Informational only: the first valid answer still wins, whoever was "answering".
            await otto.send({"type": "presence", "answering": rid})
            await presence_until(vera, lambda m: watching(m)["otto"] == rid)
            await script.send({"type": "confirm", "value": True, "request_id": rid})
            resolved = await script.until("request_resolved")
            assert resolved["reason"] == "answered" and resolved["answered_by"]["user"] == "otto"
            await otto.send({"type": "confirm", "value": False, "request_id": rid})
            assert (await otto.until("error"))["code"] == "already_answered"

            # A tab that never announced itself gets no presence at all.
            await script.send({"type": "ping"})
            await script.until("pong")
            assert all(m["type"] != "presence" for m in script.received)

            await otto.close()
            alone, _ = await presence_until(vera, lambda m: len(m["watchers"]) == 1)
            assert watching(alone) == {"vera": None} and alone["tabs"] == 2
        finally:
            for tab in (otto, vera, script):
                await tab.close()


async def test_a_focus_toggled_in_a_loop_does_not_flood_the_other_tabs(tmp_path: Path) -> None:
    with run_server(tmp_path / "d", registry=make_registry()) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            r = await client.post("/tasks", json={"task_type": "confirm_once"})
            sid = r.json()["task_id"]
        async with (
            await WS.open(server.ws_url, sid) as toggler,
            await WS.open(server.ws_url, sid) as other,
        ):
            rid = (await prompted(toggler))["request_id"]
            await prompted(other)
            await other.send({"type": "presence"})
            await presence_until(other, lambda m: m["tabs"] == 2)
            toggles = 30  # within the rate limit's burst: every one is read
            for i in range(toggles):
                await toggler.send({"type": "presence", "answering": rid if i % 2 else None})
            await toggler.send({"type": "ping"})
            await toggler.until("pong")  # all read
            assert all(m.get("code") != "rate_limited" for m in toggler.received)
            await toggler.close()
            # Every toggle came before the close: count what reached the other tab meanwhile.
            final, count = await presence_until(other, lambda m: m["tabs"] == 1)
            assert count < toggles // 2, count  # coalesced: the latest state, not every toggle
            assert [w["user"] for w in final["watchers"]] == [None]
