"""Waiting on a WebSocket tab: for the open prompt, or for the server to close it."""

from __future__ import annotations

import asyncio
from typing import Any

from websockets.exceptions import ConnectionClosed

from tests.support.ws import WS

TIMEOUT = 10.0


async def closed_with(tab: WS, timeout: float = TIMEOUT) -> int | None:
    """Read (and drop) messages until the server closes ``tab``; its close code."""
    async with asyncio.timeout(timeout):
        while True:
            try:
                await tab.conn.recv()
            except ConnectionClosed as closed:
                return closed.rcvd.code if closed.rcvd is not None else None


async def prompted(tab: WS) -> dict[str, Any]:
    """The open prompt, once the replay is over too (from then on only replies and live
    messages come)."""
    seen: dict[str, dict[str, Any]] = {}
    while not {"request_confirmation", "state_replay_complete"} <= set(seen):
        msg = await tab.recv()
        seen[msg["type"]] = msg
    return seen["request_confirmation"]
