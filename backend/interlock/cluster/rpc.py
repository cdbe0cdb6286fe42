"""Calls between instances over the Redis bus: an answer, a cancel or a stop reaches the
worker that runs the task or owns the controller, and its reply comes back.

A call is one message on the callee's instance channel and one reply on the caller's; both
are JSON. Pub/sub is at most once: a call whose reply does not come within its timeout
raises ``CallFailed`` (the callee may or may not have acted: its effects, if any, reach
every tab as the task's messages).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from ..bus.redis import RedisBus

log = logging.getLogger("interlock.cluster")

Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


class CallFailed(Exception):
    """The callee did not reply in time (or could not be reached)."""


class Rpc:
    """Sends calls to other instances and serves theirs with ``handlers`` (by name)."""

    def __init__(self, bus: RedisBus, handlers: dict[str, Handler] | None = None) -> None:
        self.bus = bus
        self.handlers: dict[str, Handler] = dict(handlers or {})
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._serving: set[asyncio.Task[None]] = set()
        bus.on_command = self._take

    async def call(
        self, instance_id: str, op: str, args: dict[str, Any], timeout: float
    ) -> dict[str, Any]:
        """``op(args)`` on ``instance_id``; its reply, or ``CallFailed`` after ``timeout``."""
        call_id = uuid.uuid4().hex
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[call_id] = future
        message = {"k": "call", "id": call_id, "from": self.bus.instance_id, "op": op}
        self.bus.send(instance_id, json.dumps({**message, "args": args}).encode())
        try:
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            raise CallFailed(
                f"{op}: the instance running it did not reply within {timeout:g} s"
            ) from None
        finally:
            self._waiting.pop(call_id, None)

    async def close(self) -> None:
        for task in list(self._serving):
            task.cancel()
        if self._serving:
            await asyncio.wait(self._serving, timeout=2.0)

    def _take(self, payload: bytes) -> None:
        try:
            message = json.loads(payload)
            kind = message["k"]
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed call from another instance: %r", payload[:200])
            return
        if kind == "reply":
            future = self._waiting.get(message.get("id", ""))
            if future is not None and not future.done():
                future.set_result(message.get("result") or {})
        elif kind == "call":
            task = asyncio.create_task(self._serve(message), name=f"rpc-{message.get('op')}")
            self._serving.add(task)
            task.add_done_callback(self._serving.discard)

    async def _serve(self, message: dict[str, Any]) -> None:
        handler = self.handlers.get(message.get("op", ""))
        if handler is None:
            result: dict[str, Any] = {"error": f"unknown call {message.get('op')!r}"}
        else:
            try:
                result = await handler(message.get("args") or {})
            except Exception as exc:
                log.exception("call %s from another instance failed", message.get("op"))
                result = {"error": f"{type(exc).__name__}: {exc}"}
        reply = {"k": "reply", "id": message.get("id"), "result": result}
        self.bus.send(str(message.get("from", "")), json.dumps(reply).encode())
