"""Many live sessions in one process: does Interlock slow down as they pile up?

Creates ``--sessions`` tasks that each stop at a prompt and stay ``waiting`` (the bench task
``bench_stream`` with ``gate``), ``--concurrency`` requests at a time, on a server pinned to
CPU 0 (bench/fanout.py's ``server``). Every ``--every`` sessions it notes:

* the creation rate over the last block (tasks/s): it should not fall as sessions pile up;
* ``GET /tasks?limit=100``: median and p99 of ``--lists`` requests, in ms: it should not grow
  with the total; and the server's CPU time per request (steadier than the wall time on a
  busy machine: other work delays the answer but does not add to it);
* the server's resident memory.

Then ``--tabs`` tabs join as many sessions at once and read their replay
(``state_replay_complete``): the wall time for all of them.

Interlock runs on each of ``--stores``: SQLite (the default store) and Redis (the machine's,
``--redis``, under a prefix of this run's, deleted afterwards). The bare FastAPI/uvicorn app
(bench/baseline_app.py: records in a dict, no persistence) is measured the same way in the
same run; ratios are Interlock over bare.

``--variant NAME=DIR`` adds Interlock run from another source tree (DIR holds the
``interlock`` package, e.g. a checkout's ``backend/``) on each store: an A/B of a change in
one run.

Usage: python bench/scale.py [--sessions 10000] [--every 2000] [--tabs 1000] [--stores sqlite,redis]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from fanout import cpu_seconds, server
from redis_prefix import DEFAULT_URL, on_redis

#: sessions, creation rate, list p50 and p99 (ms), server CPU per list (ms), RSS (MiB)
Row = tuple[int, float, float, float, float, float]

TASK = {"task_type": "bench_stream", "parameters": {"count": 0, "gate": True}}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def create(client: httpx.AsyncClient, count: int, concurrency: int) -> list[str]:
    ids: list[str] = []
    left = iter(range(count))

    async def worker() -> None:
        for _ in left:
            r = await client.post("/tasks", json=TASK)
            assert r.status_code == 202, r.text
            ids.append(r.json()["task_id"])

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return ids


async def list_times(client: httpx.AsyncClient, count: int) -> tuple[float, float]:
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        r = await client.get("/tasks", params={"limit": 100})
        times.append((time.perf_counter() - t0) * 1e3)
        assert r.status_code == 200 and len(r.json()) == 100, r.text
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.99) - 1)]


async def join(url: str, ids: list[str]) -> float:
    """Seconds until every tab has its replay (one tab per session)."""

    async def one(sid: str) -> None:
        async with connect(f"{url.replace('http', 'ws')}/ws/{sid}", max_queue=None) as ws:
            while "state_replay_complete" not in await ws.recv():
                pass

    t0 = time.perf_counter()
    await asyncio.gather(*(one(sid) for sid in ids))
    return time.perf_counter() - t0


async def measure(
    url: str, pid: int, args: argparse.Namespace, tabs: bool
) -> tuple[list[Row], float | None]:
    rows: list[Row] = []
    ids: list[str] = []
    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as client:
        while len(ids) < args.sessions:
            t0 = time.perf_counter()
            ids += await create(client, args.every, args.concurrency)
            rate = args.every / (time.perf_counter() - t0)
            cpu0 = cpu_seconds(pid)
            p50, p99 = await list_times(client, args.lists)
            cpu = (cpu_seconds(pid) - cpu0) / args.lists * 1e3
            rows.append((len(ids), rate, p50, p99, cpu, rss_mib(pid)))
    joined = await join(url, ids[: args.tabs]) if tabs else None
    return rows, joined


def report(kind: str, ours: list[Row], bare: list[Row], joined: float | None, tabs: int) -> None:
    print(f"Interlock on {kind}:")
    print(
        "  sessions  create/s (x bare)   GET /tasks?limit=100 p50 / p99 ms (x bare p50)"
        "  server CPU ms (x bare)  RSS MiB"
    )
    for (n, rate, p50, p99, cpu, rss), (_, brate, bp50, _, bcpu, _) in zip(ours, bare, strict=True):
        print(
            f"  {n:8d}  {rate:7.0f} ({rate / brate:4.2f}x)"
            f"   {p50:6.2f} / {p99:6.2f} ({p50 / bp50:4.2f}x)"
            f"{'':17s}{cpu:6.2f} ({cpu / bcpu if bcpu else float('nan'):4.2f}x)"
            f"  {rss:7.0f}"
        )
    first, last = ours[0], ours[-1]
    print(
        f"  creation rate at {last[0]} vs {first[0]}: {last[1] / first[1]:.2f}x;"
        f" list p50 {last[2] / first[2]:.2f}x; at {last[0]}: list p50 {last[2]:.2f} ms,"
        f" p99 {last[3]:.2f} ms, server CPU {last[4]:.2f} ms",
        flush=True,
    )
    if joined is not None:
        print(f"  {tabs} tabs joined and replayed in {joined:.2f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--every", type=int, default=2_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--lists", type=int, default=100, help="GET /tasks per measurement")
    parser.add_argument("--tabs", type=int, default=1_000)
    parser.add_argument("--stores", default="sqlite,redis", help="Interlock's stores, in order")
    parser.add_argument("--redis", default=DEFAULT_URL)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also run Interlock from DIR (holding the interlock package) as NAME",
    )
    args = parser.parse_args()
    stores = [name for name in args.stores.split(",") if name]
    assert set(stores) <= {"sqlite", "redis"}, args.stores
    sources: list[tuple[str, Path | None]] = [("", None)]
    for spec in args.variant:
        name, _, src = spec.partition("=")
        sources.append((f" ({name})", Path(src).resolve()))
    # Room for every session to wait at once, and for --tabs tabs from one address.
    extra = ("--max-concurrent", str(args.sessions + 1))
    os.environ["INTERLOCK_MAX_CONNECTIONS_PER_CLIENT"] = str(args.tabs + 1)
    print(f"{args.sessions} waiting sessions, created {args.concurrency} at a time:", flush=True)
    with server("bare", None, 100, *extra) as (url, proc):
        bare, _ = asyncio.run(measure(url, proc.pid, args, tabs=False))
    results: dict[str, list[Row]] = {}
    for store in stores:
        for suffix, src in sources:
            where: AbstractContextManager[object] = (
                on_redis(args.redis) if store == "redis" else nullcontext()
            )
            with where, server("interlock", src, 100, *extra) as (url, proc):
                ours, joined = asyncio.run(measure(url, proc.pid, args, tabs=True))
            results[store + suffix] = ours
            report(store + suffix, ours, bare, joined, args.tabs)
    if len(stores) == 2:
        sq, rd = results["sqlite"], results["redis"]
        print(
            f"redis / sqlite at {rd[-1][0]}: creation rate {rd[-1][1] / sq[-1][1]:.2f}x,"
            f" list p50 {rd[-1][2] / sq[-1][2]:.2f}x, server CPU per list"
            f" {rd[-1][4] / sq[-1][4]:.2f}x"
        )


if __name__ == "__main__":
    main()
