"""A small WebSocket test client on top of the ``websockets`` library."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

TIMEOUT = 10.0


class WS:
    """One tab: send dicts, receive dicts, wait for a message type."""

    def __init__(self, conn: ClientConnection) -> None:
        self.conn = conn
        self.received: list[dict[str, Any]] = []

    @classmethod
    async def open(cls, base: str, session_id: str, since: int | None = None, **kw: Any) -> WS:
        url = f"{base}/ws/{session_id}" + (f"?since={since}" if since is not None else "")
        # No client-side flow control by default: a paused reader would not see the server's
        # close frame and close() would wait for its timeout.
        kw.setdefault("max_queue", None)
        return cls(await connect(url, **kw))

    async def send(self, message: dict[str, Any] | str) -> None:
        await self.conn.send(message if isinstance(message, str) else json.dumps(message))

    async def recv(self, timeout: float = TIMEOUT) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        msg: dict[str, Any] = json.loads(raw)
        self.received.append(msg)
        return msg

    async def until(self, type_: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """Receive until a message of ``type_`` arrives; return it."""
        async with asyncio.timeout(timeout):
            while True:
                msg = await self.recv()
                if msg["type"] == type_:
                    return msg

    async def until_all(self, *types: str, timeout: float = TIMEOUT) -> dict[str, dict[str, Any]]:
        """Receive until a message of each of ``types`` arrived, in whatever order; return the
        first of each. For a reply (``error``) and a session message (``task_cancelled``):
        nothing orders the two."""
        got: dict[str, dict[str, Any]] = {}
        async with asyncio.timeout(timeout):
            while not set(types) <= got.keys():
                msg = await self.recv()
                got.setdefault(msg["type"], msg)
        return {t: got[t] for t in types}

    async def replay(self) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        """Read ``state_replay_start``, the replayed messages and ``state_replay_complete``."""
        start = await self.recv()
        assert start["type"] == "state_replay_start", start
        items: list[dict[str, Any]] = []
        while True:
            msg = await self.recv()
            if msg["type"] == "state_replay_complete":
                return start, items, msg
            items.append(msg)

    async def close(self) -> None:
        await self.conn.close()

    async def __aenter__(self) -> WS:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
