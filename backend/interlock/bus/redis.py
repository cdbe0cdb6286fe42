"""Redis event bus: this instance's tabs as ``MemoryBus`` does, other instances' over pub/sub.

``publish`` delivers to this instance's subscribers there and then (so the replay snapshot
and subscription of one event-loop step stay gap-free here) and queues the message for the
other instances: a sender task publishes the queue in order, in one round trip per burst,
on the session's channel ``P{sid}:bus``. A listener subscribes to the channels of the
sessions that have subscribers on this instance but are published by another one (one
instance runs a session and publishes its messages) and hands on what arrives there (its own
messages are tagged with its id and skipped, should two instances publish one session).

Pub/sub is at most once: what another instance publishes while this one's connection to
Redis is down does not reach this instance's tabs. The listener reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from redis.exceptions import RedisError

from ..store.redis import connect
from .base import EventBus, Subscriber
from .memory import MemoryBus

log = logging.getLogger("interlock.bus")

#: Backoff between reconnections of the listener and retries of the sender.
#: Seconds each step of ``close`` may take.
CLOSE_TIMEOUT = 2.0
RETRY_FIRST, RETRY_MAX = 0.05, 2.0
#: Messages published in one round trip at most, and handed on between two yields to the
#: loop (what is buffered already is parsed without one).
CHUNK = 64
#: Sessions remembered as published by this instance.
PRODUCING = 10_000


class RedisBus(EventBus):
    """Fan-out across every instance sharing ``prefix`` on the Redis at ``url``."""

    def __init__(self, url: str, *, prefix: str = "interlock:", timeout: float = 5.0) -> None:
        self.prefix = prefix
        self.instance = uuid.uuid4().hex.encode()
        self._local = MemoryBus()
        self._redis: Any = connect(url, timeout)
        self._pubsub: Any = self._redis.pubsub()
        self._out: deque[tuple[str, bytes]] = deque()
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        #: Sessions whose messages this instance publishes (it runs them): it does not
        #: listen to their channels. Oldest first, at most ``PRODUCING`` of them.
        self._producing: dict[str, None] = {}
        #: Channels Redis has confirmed this instance's subscription to.
        self._listening: set[str] = set()
        self._down: str | None = None
        self._confirmed = asyncio.Condition()
        #: Sessions followed explicitly (``follow``): listened to whether or not they have
        #: subscribers here.
        self._followed: set[str] = set()
        #: Other channels listened to, and what takes their messages.
        self._extra: dict[str, Callable[[bytes], None]] = {}
        #: Takes another instance's message of a session (id, JSON text) instead of
        #: handing it to this instance's subscribers directly (a mirror keeps it first).
        self.on_remote: Callable[[str, str], None] | None = None
        #: Takes what other instances send this one (``send``).
        self.on_command: Callable[[bytes], None] | None = None
        #: Called when the connection is back after a loss: what was published meanwhile
        #: never arrived here (pub/sub is at most once), so mirrors must catch up.
        self.on_reconnect: Callable[[], None] | None = None

    @property
    def instance_id(self) -> str:
        return self.instance.decode()

    def instance_channel(self, instance_id: str) -> str:
        return f"{self.prefix}instance:{instance_id}"

    def channel(self, session_id: str) -> str:
        return f"{self.prefix}{{{session_id}}}:bus"

    async def open(self) -> None:
        self._tasks = [
            asyncio.create_task(self._send(), name="interlock-bus-send"),
            asyncio.create_task(self._listen(), name="interlock-bus-listen"),
        ]

    async def close(self) -> None:
        """Stop both tasks and close the connections, within ``CLOSE_TIMEOUT`` each step:
        a shutdown must not wait on a Redis that stopped answering."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT)
        self._tasks = []
        for connection in (self._pubsub, self._redis):
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(connection.aclose(), CLOSE_TIMEOUT)

    # ------------------------------------------------------------------- the interface

    def subscribe(self, session_id: str, subscriber: Subscriber) -> None:
        first = self._local.subscriber_count(session_id) == 0
        self._local.subscribe(session_id, subscriber)
        if first:
            self._changed.set()

    def unsubscribe(self, session_id: str, subscriber: Subscriber) -> None:
        self._local.unsubscribe(session_id, subscriber)
        if self._local.subscriber_count(session_id) == 0:
            self._changed.set()

    def publish(self, session_id: str, data: str) -> None:
        if session_id not in self._producing:
            self._producing[session_id] = None
            if len(self._producing) > PRODUCING:
                del self._producing[next(iter(self._producing))]
            self._changed.set()
        self._local.publish(session_id, data)
        self._out.append((self.channel(session_id), self.instance + data.encode()))
        self._wake.set()

    def subscriber_count(self, session_id: str) -> int:
        return self._local.subscriber_count(session_id)

    def subscribers(self, session_id: str) -> list[Subscriber]:
        return self._local.subscribers(session_id)

    def deliver_local(self, session_id: str, data: str) -> None:
        """Hand ``data`` to this instance's subscribers only (a mirror's fan-out)."""
        self._local.publish(session_id, data)

    def follow(self, session_id: str) -> None:
        """Listen to the session's channel (``listening`` says when Redis confirmed it)."""
        if session_id not in self._followed:
            self._followed.add(session_id)
            self._changed.set()

    def unfollow(self, session_id: str) -> None:
        if session_id in self._followed:
            self._followed.discard(session_id)
            self._changed.set()

    def listen(self, channel: str, take: Callable[[bytes], None]) -> None:
        """Listen to ``channel`` too; ``take`` gets each message's payload."""
        self._extra[channel] = take
        self._changed.set()

    def send(self, instance_id: str, payload: bytes) -> None:
        """Queue ``payload`` for another instance (its ``on_command``), in publish order."""
        self._out.append((self.instance_channel(instance_id), payload))
        self._wake.set()

    def health(self) -> str | None:
        return self._down

    async def listening(self, session_id: str) -> None:
        """Return once what other instances publish for the session reaches this one's
        subscribers (Redis confirmed the subscription); call after ``subscribe``."""
        channel = self.channel(session_id)
        async with self._confirmed:
            await self._confirmed.wait_for(lambda: channel in self._listening)

    # ------------------------------------------------------------------------ tasks

    async def _send(self) -> None:
        delay = RETRY_FIRST
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._out:
                chunk = [self._out[i] for i in range(min(CHUNK, len(self._out)))]
                try:
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for channel, payload in chunk:
                            pipe.publish(channel, payload)
                        await pipe.execute()
                except RedisError as exc:
                    log.warning("publishing to Redis failed (%s); retrying in %.2fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, RETRY_MAX)
                    continue
                delay = RETRY_FIRST
                for _ in chunk:
                    self._out.popleft()
                await asyncio.sleep(0)

    def _wanted(self) -> set[str]:
        wanted = {self.channel(sid) for sid in self._local.sessions() if sid not in self._producing}
        wanted.update(self.channel(sid) for sid in self._followed)
        wanted.update(self._extra)
        return wanted

    async def _listen(self) -> None:
        delay = RETRY_FIRST
        # Subscribed to its own channel always: a pub/sub connection with no channel ends.
        own = self.instance_channel(self.instance_id)
        while True:
            try:
                await self._pubsub.subscribe(own)
                subscribed: set[str] = set()
                if self._down is not None:
                    log.warning("the Redis bus is connected again")
                    self._down = None
                    if self.on_reconnect is not None:
                        self.on_reconnect()
                while True:
                    if self._changed.is_set():
                        self._changed.clear()
                        wanted = self._wanted()
                        if wanted - subscribed:
                            await self._pubsub.subscribe(*(wanted - subscribed))
                        if subscribed - wanted:
                            await self._pubsub.unsubscribe(*(subscribed - wanted))
                        subscribed = wanted
                    for _ in range(CHUNK):
                        message = await self._pubsub.get_message(timeout=0.05)
                        if message is None:
                            break
                        await self._take(message)
                        delay = RETRY_FIRST
                    await asyncio.sleep(0)
            except RedisError as exc:
                log.warning("the Redis bus lost its connection (%s); again in %.2fs", exc, delay)
                self._down = f"the connection to Redis is lost: {exc}"
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
                self._listening.clear()
                with contextlib.suppress(RedisError):
                    await self._pubsub.aclose()
                self._pubsub = self._redis.pubsub()
                self._changed.set()

    async def _take(self, message: dict[str, Any]) -> None:
        kind, channel = message["type"], message["channel"].decode()
        if kind == "message":
            if channel in self._extra:
                self._extra[channel](message["data"])
            elif channel.startswith(f"{self.prefix}instance:"):
                if self.on_command is not None:
                    self.on_command(message["data"])
            else:
                self._hand_on(channel, message["data"])
        elif kind in ("subscribe", "unsubscribe"):
            if kind == "subscribe":
                self._listening.add(channel)
            else:
                self._listening.discard(channel)
            async with self._confirmed:
                self._confirmed.notify_all()

    def _hand_on(self, name: str, payload: bytes) -> None:
        if payload.startswith(self.instance):
            return
        sid = name[name.index("{") + 1 : name.rindex("}")]
        data = payload[len(self.instance) :].decode()
        if self.on_remote is not None:
            self.on_remote(sid, data)
        else:
            self._local.publish(sid, data)
