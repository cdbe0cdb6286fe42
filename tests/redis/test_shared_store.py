"""What the Redis store and bus add to the contract: shared by instances, hash-tagged keys."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

import redis
from interlock.bus import RedisBus
from interlock.exceptions import StoreError, StoreUnavailable
from interlock.store import RedisStore, StoredMessage, TaskRecord, WriteBatch
from tests.support.redis import URL, redis_prefix


@pytest.fixture
async def prefix() -> AsyncIterator[str]:
    with redis_prefix() as p:
        yield p


def task(task_id: str) -> TaskRecord:
    return TaskRecord(task_id, "t", {}, "running", datetime(2026, 1, 1, tzinfo=UTC))


def msg(sid: str, seq: int) -> StoredMessage:
    return StoredMessage(sid, seq, "stream", f'{{"seq":{seq}}}')


async def test_two_instances_share_sessions_and_seq_stays_unique(prefix: str) -> None:
    a, b = RedisStore(URL, prefix=prefix), RedisStore(URL, prefix=prefix)
    await a.open()
    await b.open()
    try:
        await a.write(WriteBatch(tasks=[task("s1")], messages=[msg("s1", 1), msg("s1", 2)]))
        got = await b.get_task("s1")
        assert got is not None and got.status == "running"
        assert [m.seq for m in await b.load_messages("s1")] == [1, 2]
        with pytest.raises(StoreError) as err:  # b may not write a seq a already stored
            await b.write(WriteBatch(messages=[msg("s1", 2), msg("s1", 3)]))
        assert not isinstance(err.value, StoreUnavailable)
        await b.write(WriteBatch(messages=[msg("s1", 3)]))
        assert [m.seq for m in await a.load_messages("s1")] == [1, 2, 3]
    finally:
        await a.close()
        await b.close()


async def test_every_key_of_a_session_is_hash_tagged(prefix: str) -> None:
    store = RedisStore(URL, prefix=prefix)
    await store.open()
    try:
        await store.write(WriteBatch(tasks=[task("s1")], messages=[msg("s1", 1)]))
    finally:
        await store.close()
    client = redis.Redis.from_url(URL)
    try:
        keys = sorted(k.decode() for k in client.scan_iter(match=f"{prefix}*"))
    finally:
        client.close()
    session = [k for k in keys if "s1" in k and not k.startswith(f"{prefix}status:")]
    assert session and all(k.startswith(f"{prefix}{{s1}}:") for k in session), keys
    assert f"{prefix}{{s1}}:log" in keys  # the stream of replayable messages


class Tab:
    def __init__(self) -> None:
        self.got: list[str] = []
        self.arrived = asyncio.Event()

    def deliver(self, data: str) -> None:
        self.got.append(data)
        self.arrived.set()


async def test_the_bus_reaches_tabs_on_another_instance_in_order_and_once(prefix: str) -> None:
    runner, other = RedisBus(URL, prefix=prefix), RedisBus(URL, prefix=prefix)
    await runner.open()
    await other.open()
    try:
        here, there = Tab(), Tab()
        runner.subscribe("s1", here)
        runner.publish("s1", "m0")  # runner publishes s1: it does not listen to it
        other.subscribe("s1", there)
        await asyncio.wait_for(other.listening("s1"), 5)
        for n in range(1, 101):
            runner.publish("s1", f"m{n}")
        # m0 went out before the subscription, but its PUBLISH may reach Redis after it.
        while len([m for m in there.got if m != "m0"]) < 100:
            there.arrived.clear()
            await asyncio.wait_for(there.arrived.wait(), 10)
        assert [m for m in there.got if m != "m0"] == [f"m{n}" for n in range(1, 101)]
        assert here.got == [f"m{n}" for n in range(101)]  # locally once, not echoed
        other.unsubscribe("s1", there)
        assert other.subscriber_count("s1") == 0 and runner.subscriber_count("s1") == 1
    finally:
        await runner.close()
        await other.close()


async def test_a_page_of_tasks_is_read_from_the_records_hash_or_else_each_task(
    prefix: str,
) -> None:
    store = RedisStore(URL, prefix=prefix)
    await store.open()
    client = redis.Redis.from_url(URL)
    try:
        finished = TaskRecord(
            "s2",
            "t",
            {},
            "completed",
            datetime(2026, 1, 2, tzinfo=UTC),
            completed_at=datetime(2026, 1, 3, tzinfo=UTC),
        )
        await store.write(WriteBatch(tasks=[task("s1"), finished]))
        assert set(client.hkeys(f"{prefix}records")) == {b"s1", b"s2"}
        client.hdel(f"{prefix}records", "s1")  # as written before the records hash existed
        listed = await store.list_tasks(limit=10)
        assert [(t.task_id, t.status) for t in listed] == [("s2", "completed"), ("s1", "running")]
        assert await store.prune(datetime(2026, 2, 1, tzinfo=UTC)) == 1
        assert client.hkeys(f"{prefix}records") == []
        assert [t.task_id for t in await store.list_tasks(limit=10)] == ["s1"]
    finally:
        client.close()
        await store.close()
