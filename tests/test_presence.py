"""PresenceBoard: who watches is told to those who asked, coalesced and bounded."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from interlock.presence import MAX_LISTED, PresenceBoard


class Tab:
    """A watcher (the ``Watching`` interface): keeps what it is told."""

    def __init__(self, name: str) -> None:
        self.id = name
        self.told: list[dict[str, Any]] = []
        self.event = asyncio.Event()

    def deliver(self, data: str) -> None:
        self.told.append(json.loads(data))
        self.event.set()

    async def next(self) -> dict[str, Any]:
        await asyncio.wait_for(self.event.wait(), 5)
        self.event.clear()
        return self.told[-1]


async def test_a_focus_toggled_in_a_loop_reaches_the_others_once_then_once_more() -> None:
    board = PresenceBoard(lambda _sid: 2, interval=0.05)
    a, b = Tab("a"), Tab("b")
    board.announce("s", b, "ben", None)
    ben = {"connection_id": "b", "user": "ben", "answering": None}
    assert (await b.next())["watchers"] == [ben]
    for i in range(200):  # in one loop step: a flood
        board.announce("s", a, "ana", "r1" if i % 2 == 0 else None)
    board.announce("s", a, "ana", "r1")
    latest = await b.next()  # one message, after the interval, with the latest state
    assert latest["watchers"][1] == {"connection_id": "a", "user": "ana", "answering": "r1"}
    assert latest["you"] == "b" and latest["tabs"] == 2
    assert len(b.told) == 2 and len(a.told) == 1 and a.told[0]["you"] == "a"
    board.close()


async def test_nothing_is_sent_when_nothing_changed_but_a_newcomer_is_told() -> None:
    board = PresenceBoard(lambda _sid: 3, interval=0)
    a, b = Tab("a"), Tab("b")
    board.announce("s", a, None, None)
    await a.next()
    board.announce("s", a, None, None)  # the same again
    board.changed("s")
    await asyncio.sleep(0)
    assert len(a.told) == 1
    board.announce("s", b, None, None)
    assert len((await b.next())["watchers"]) == 2
    await a.next()
    board.leave("s", b)
    assert [w["connection_id"] for w in (await a.next())["watchers"]] == ["a"]
    board.leave("s", a)
    board.changed("s")  # nobody asked any more: nothing to do
    board.close()


async def test_only_the_first_watchers_are_listed_but_every_tab_is_counted() -> None:
    board = PresenceBoard(lambda _sid: MAX_LISTED + 10, interval=0)
    tabs = [Tab(f"t{i}") for i in range(MAX_LISTED + 10)]
    for tab in tabs:
        board.announce("s", tab, None, None)
    last = await tabs[-1].next()
    assert len(last["watchers"]) == MAX_LISTED and last["tabs"] == MAX_LISTED + 10
    board.close()
