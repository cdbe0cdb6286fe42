"""Presence: who watches each session on this server, and who is answering its prompt.

Purely informational: it decides nothing (the first valid answer still wins) and is never
stored or replayed. A tab opts in by sending ``presence``; from then on it gets a
``presence`` message whenever the picture changes. Bounded three ways, so a client that
toggles focus in a loop cannot flood the others:

* each client message costs a token of its connection's rate limit (``interlock.abuse``:
  ``INTERLOCK_WS_RATE`` a second, then ``rate_limited``, then 1008);
* a session's tabs are told at most once every ``INTERVAL`` seconds, of the latest state
  (changes in between are coalesced, and a change that changes nothing sends nothing);
* at most ``MAX_LISTED`` watchers are listed (``tabs`` still counts them all).

Each server knows its own tabs only: with several instances behind a shared bus, a tab
sees the watchers of the instance it is connected to.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from . import protocol as p

#: Seconds between two ``presence`` messages of one session.
INTERVAL = 0.25
#: Watchers listed in one ``presence`` message.
MAX_LISTED = 50


class Watching(Protocol):
    """A tab as presence needs it (``interlock.connections.Connection``)."""

    @property
    def id(self) -> str: ...

    def deliver(self, data: str) -> None: ...


@dataclass(eq=False)
class _Member:
    conn: Watching
    user: str | None
    answering: str | None


@dataclass(eq=False)
class _Room:
    members: dict[str, _Member] = field(default_factory=dict)
    last_sent: float = float("-inf")
    sent: str | None = None
    #: Members told nothing yet (they get the current state even when it did not change).
    fresh: set[str] = field(default_factory=set)
    timer: asyncio.TimerHandle | None = None


class PresenceBoard:
    """The presence of every session on this server; event-loop thread only.

    ``tabs(session_id)`` counts the WebSockets watching a session here."""

    def __init__(self, tabs: Callable[[str], int], interval: float = INTERVAL) -> None:
        self._tabs = tabs
        self._interval = interval
        self._rooms: dict[str, _Room] = {}

    def announce(
        self, session_id: str, conn: Watching, user: str | None, answering: str | None
    ) -> None:
        """``conn`` watches (by ``user``) and has the form of ``answering`` focused, or none."""
        room = self._rooms.setdefault(session_id, _Room())
        if conn.id not in room.members:
            room.fresh.add(conn.id)
        room.members[conn.id] = _Member(conn, user, answering)
        self._schedule(session_id, room)

    def changed(self, session_id: str) -> None:
        """A tab connected to or left the session: tell those who asked."""
        room = self._rooms.get(session_id)
        if room is not None:
            self._schedule(session_id, room)

    def leave(self, session_id: str, conn: Watching) -> None:
        """``conn`` closed."""
        room = self._rooms.get(session_id)
        if room is None:
            return
        room.members.pop(conn.id, None)
        room.fresh.discard(conn.id)
        if room.members:
            self._schedule(session_id, room)
            return
        if room.timer is not None:
            room.timer.cancel()
        del self._rooms[session_id]

    def close(self) -> None:
        """Forget everything (the server stops)."""
        for room in self._rooms.values():
            if room.timer is not None:
                room.timer.cancel()
        self._rooms.clear()

    def _schedule(self, session_id: str, room: _Room) -> None:
        if room.timer is not None:
            return  # a message is due: it will carry this change too
        loop = asyncio.get_running_loop()
        wait = room.last_sent + self._interval - loop.time()
        if wait <= 0:
            self._send(session_id, room)
        else:
            room.timer = loop.call_later(wait, self._send, session_id, room)

    def _send(self, session_id: str, room: _Room) -> None:
        room.timer = None
        if self._rooms.get(session_id) is not room:
            return  # everyone left meanwhile
        listed = [
            p.Watcher(connection_id=m.conn.id, user=m.user, answering=m.answering)
            for m in list(room.members.values())[:MAX_LISTED]
        ]
        body = (
            f'"tabs":{self._tabs(session_id)},'
            f'"watchers":[{",".join(w.model_dump_json() for w in listed)}]}}'
        )
        told = [room.members[i] for i in room.fresh] if body == room.sent else room.members.values()
        room.fresh.clear()
        if not told:
            return
        room.sent, room.last_sent = body, asyncio.get_running_loop().time()
        for member in list(told):
            # The shared part serialized once; only ``you`` differs between tabs.
            member.conn.deliver(f'{{"type":"presence","you":{json.dumps(member.conn.id)},{body}')
