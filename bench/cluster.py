"""Interlock as a cluster on Redis: two ``interlock serve --no-worker`` instances and one
``interlock worker``, against one process and bare uvicorn, in one run.

Every server process is pinned to CPU 0 and the clients to CPU 1 (bench/fanout.py's
``pin``); the cluster shares Redis (the machine's, ``--redis``) under a prefix of this run's,
deleted afterwards. The worker runs every task (``bench_stream``, bench/bench_tasks.py); the
instances serve the tabs, replay from Redis and take the answers. Prints:

* one session to ``--tabs`` tabs, split half and half over the two instances vs all on the
  first: server CPU per delivered message, summed over both instances (the worker's and
  Redis's apart: per message, not per tab), the ratio of the two, and each against bare
  uvicorn (deflate off) and one Interlock process on SQLite (the median of ``--rounds``);
  the difference is what the second instance costs per message (taking it from Redis);
* one tab through the cluster (worker -> Redis -> instance) vs one process on SQLite:
  messages a second (best of ``--single-runs``);
* ``--tabs`` tabs reconnecting at once onto the second instance to a session the first
  served, 100 messages behind (``since``): p50 / p99 to ``state_replay_complete``, vs the
  same storm on the first instance and on one SQLite process.

Redis's CPU is its whole process's: anything else using that Redis counts too.

Usage: python bench/cluster.py [--messages 2000] [--tabs 100] [--rounds 3] [--redis URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

import redis
from fanout import (
    HERE,
    cpu_seconds,
    drain,
    free_port,
    pin,
    reconnect_latencies,
    run,
    run_bare,
    run_interlock,
    server,
)
from redis_prefix import DEFAULT_URL, on_redis

#: What every process of the cluster is told besides Redis: the bench task types, deep
#: per-tab queues (the clients share one core and read slower than a server writes), and
#: room for every bench tab from 127.0.0.1.
CLUSTER_ENV = {
    "INTERLOCK_TASK_MODULES": "bench_tasks",
    "INTERLOCK_HISTORY_SIZE": "1000",
    "INTERLOCK_WS_QUEUE_SIZE": "1000000",
    "INTERLOCK_MAX_CONCURRENT": "1000",
    "INTERLOCK_MAX_CONNECTIONS_PER_CLIENT": "100000",
    "INTERLOCK_LOG_LEVEL": "warning",
}


@dataclass
class Node:
    """One process of the cluster: its base URL and pid."""

    url: str
    pid: int


@dataclass
class Cluster:
    first: Node
    second: Node
    worker: Node
    redis_pid: int | None

    @property
    def instances(self) -> list[int]:
        return [self.first.pid, self.second.pid]


@contextmanager
def interlock(*command: str) -> Iterator[Node]:
    """``interlock COMMAND…`` pinned to CPU 0, on a free port and a data directory of its own;
    yields once its ``/health`` answers (the cluster's settings are in the environment)."""
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="interlock-bench-"))
    env = {**os.environ, **CLUSTER_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(HERE), env.get("PYTHONPATH")]))
    cmd = [sys.executable, "-m", "interlock", *command, "--port", str(port)]
    proc = subprocess.Popen([*pin(0), *cmd, "--data-dir", str(data)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{' '.join(command)} exited with status {proc.returncode}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{' '.join(command)} did not answer /health within 30 s")
            time.sleep(0.05)
        yield Node(url, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(data, ignore_errors=True)


def redis_pid(url: str) -> int | None:
    """The Redis server's pid when it runs on this machine (its CPU is then readable)."""
    client = redis.Redis.from_url(url)
    try:
        pid = int(client.info("server")["process_id"])
    finally:
        client.close()
    return pid if Path(f"/proc/{pid}/stat").exists() else None


@contextmanager
def cluster(redis_url: str) -> Iterator[Cluster]:
    with on_redis(redis_url), ExitStack() as stack:
        worker = stack.enter_context(interlock("worker"))
        first = stack.enter_context(interlock("serve", "--no-worker"))
        second = stack.enter_context(interlock("serve", "--no-worker"))
        yield Cluster(first, second, worker, redis_pid(redis_url))


async def split_fan_out(
    c: Cluster, tabs_on_second: int, tabs: int, messages: int
) -> dict[str, float]:
    """One gated session posted to the first instance, ``tabs`` tabs of which
    ``tabs_on_second`` on the second; after the Yes (to the first), the CPU seconds of the
    instances (summed), the worker and Redis until every tab has the end, and the wall time."""
    urls = [c.second.url] * tabs_on_second + [c.first.url] * (tabs - tabs_on_second)
    async with httpx.AsyncClient(base_url=c.first.url, timeout=30) as client:
        r = await client.post(
            "/tasks",
            json={"task_type": "bench_stream", "parameters": {"count": messages, "gate": True}},
        )
        r.raise_for_status()
        sid = r.json()["task_id"]
        conns = [
            await connect(f"{url.replace('http', 'ws')}/ws/{sid}", max_queue=None) for url in urls
        ]
        prompts = await asyncio.gather(*(drain(ws, '"request_confirmation"') for ws in conns))
        answer = {"value": True, "request_id": json.loads(prompts[0])["request_id"]}
        pids = {"instances": c.instances, "worker": [c.worker.pid]}
        if c.redis_pid is not None:
            pids["redis"] = [c.redis_pid]
        before = {k: sum(map(cpu_seconds, v)) for k, v in pids.items()}
        t0 = time.perf_counter()
        (await client.post(f"/tasks/{sid}/answer", json=answer)).raise_for_status()
        await asyncio.gather(*(drain(ws, '"task_completed"') for ws in conns))
        wall = time.perf_counter() - t0
        used = {k: sum(map(cpu_seconds, v)) - before[k] for k, v in pids.items()}
    for ws in conns:
        await ws.close()
    return {**used, "wall": wall}


def per_delivery(cpu: float, tabs: int, messages: int) -> float:
    """Microseconds of CPU per delivered message."""
    return cpu / (tabs * messages) * 1e6


def percentiles(latencies: list[float]) -> dict[str, float]:
    lat = sorted(latencies)
    return {
        "p50_ms": statistics.median(lat) * 1e3,
        "p99_ms": lat[max(0, int(len(lat) * 0.99) - 1)] * 1e3,
    }


def ratio(a: float, b: float) -> float:
    """``a / b``; NaN when ``b`` is 0 (a run too short for the clock ticks of CPU time)."""
    return a / b if b else float("nan")


def measure_baselines(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Bare uvicorn (deflate off) and one Interlock process on SQLite, as bench/fanout.py."""
    out: dict[str, dict[str, float]] = {}
    with server("bare-no-deflate") as (url, proc):
        cpus = [
            run(run_bare(url, proc.pid, args.tabs, args.messages))[0] for _ in range(args.rounds)
        ]
        out["bare"] = {
            "us_per_delivery": per_delivery(statistics.median(cpus), args.tabs, args.messages)
        }
    with server("interlock") as (url, proc):
        cpus = [
            run(run_interlock(url, proc.pid, args.tabs, args.messages))[0]
            for _ in range(args.rounds)
        ]
        best = min(
            run(run_interlock(url, proc.pid, 1, args.single))[1] for _ in range(args.single_runs)
        )
        storm = run(reconnect_latencies(url, args.tabs, 100))
        out["sqlite"] = {
            "us_per_delivery": per_delivery(statistics.median(cpus), args.tabs, args.messages),
            "single_rate": args.single / best,
            **percentiles(storm),
        }
    return out


def measure_cluster(args: argparse.Namespace) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    half = args.tabs // 2
    with cluster(args.redis) as c:
        runs: dict[str, list[dict[str, float]]] = {"split": [], "one": []}
        for _ in range(args.rounds):  # alternated: a neighbour's burst hits both alike
            runs["split"].append(run(split_fan_out(c, half, args.tabs, args.messages)))
            runs["one"].append(run(split_fan_out(c, 0, args.tabs, args.messages)))
        for name, results in runs.items():
            out[name] = {
                f"{k}_us_per_delivery": per_delivery(
                    statistics.median(r[k] for r in results), args.tabs, args.messages
                )
                for k in results[0]
                if k != "wall"
            }
            out[name]["delivery_rate"] = (
                args.tabs * args.messages / statistics.median(r["wall"] for r in results)
            )
        best = min(
            run(run_interlock(c.first.url, c.first.pid, 1, args.single))[1]
            for _ in range(args.single_runs)
        )
        out["single"] = {"single_rate": args.single / best}
        out["storm_second"] = percentiles(
            run(reconnect_latencies(c.first.url, args.tabs, 100, c.second.url))
        )
        out["storm_first"] = percentiles(run(reconnect_latencies(c.first.url, args.tabs, 100)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default=DEFAULT_URL)
    parser.add_argument("--messages", type=int, default=2000, help="messages per fan-out run")
    parser.add_argument("--tabs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="fan-out runs per layout (median)")
    parser.add_argument("--single", type=int, default=20000, help="messages, single-tab run")
    parser.add_argument("--single-runs", type=int, default=3)
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    # Every tab comes from 127.0.0.1: above the per-address cap of WebSockets.
    os.environ["INTERLOCK_MAX_CONNECTIONS_PER_CLIENT"] = str(args.tabs * 2)
    base = measure_baselines(args)
    ours = measure_cluster(args)
    print(json.dumps({**base, **ours}, indent=2))
    bare, sqlite = base["bare"]["us_per_delivery"], base["sqlite"]["us_per_delivery"]
    split, one = ours["split"], ours["one"]
    s, o = split["instances_us_per_delivery"], one["instances_us_per_delivery"]
    print(
        f"{args.tabs} tabs on one session, server CPU per delivery (instances summed): split "
        f"over two {s:.2f} us, all on one {o:.2f} us: split / one {ratio(s, o):.2f}; "
        f"split / bare {ratio(s, bare):.2f}, one / bare {ratio(o, bare):.2f}, "
        f"one / one SQLite process {ratio(o, sqlite):.2f} "
        f"(bare {bare:.2f} us, SQLite process {sqlite:.2f} us)"
    )
    # What the second instance adds per message, whatever its tab count: receiving it from
    # Redis and framing it once (the tabs' own cost is the same on either instance).
    print(
        f"  the second instance's cost per message (split - one, x tabs): "
        f"{(s - o) * args.tabs:.1f} us"
    )
    extra = [("worker", "worker_us_per_delivery"), ("Redis", "redis_us_per_delivery")]
    print(
        "  besides, per delivery: "
        + ", ".join(
            f"{name} {split[key]:.2f} us split / {one[key]:.2f} us one"
            for name, key in extra
            if key in split
        )
    )
    rate, sq_rate = ours["single"]["single_rate"], base["sqlite"]["single_rate"]
    print(
        f"one tab, msg/s: cluster (worker -> Redis -> instance) {rate:.0f}, one SQLite process "
        f"{sq_rate:.0f}: {ratio(rate, sq_rate):.2f}x"
    )
    second, first = ours["storm_second"], ours["storm_first"]
    print(
        f"{args.tabs} tabs reconnecting (100 missed) onto the second instance: p50 "
        f"{second['p50_ms']:.1f} ms, p99 {second['p99_ms']:.1f} ms (first instance p99 "
        f"{first['p99_ms']:.1f} ms, one SQLite process p99 {base['sqlite']['p99_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
