"""Interlock on Redis (INTERLOCK_REDIS_URL) against Interlock on SQLite and bare uvicorn.

Each server runs alone pinned to CPU 0, clients on CPU 1 (bench/fanout.py's ``server``);
Redis is the machine's (127.0.0.1:6379, or ``--redis``), under a prefix of this run's,
deleted afterwards. Prints, per kind:

* one session streaming to one tab: messages a second (best of ``--single-runs``);
* one session to ``--tabs`` tabs on one instance: server CPU per delivered message;
* ``--tabs`` tabs reconnecting with 100 missed messages each: p99 to state_replay_complete;

then Redis / SQLite and each against bare uvicorn (deflate off). Several instances sharing
sessions (fan-out split over two, a reconnect storm onto the second) are bench/cluster.py's.

Usage: python bench/redis_store.py [--single 20000] [--messages 2000] [--tabs 100]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics

from fanout import reconnect_latencies, run, run_bare, run_interlock, server
from redis_prefix import DEFAULT_URL, on_redis


def measure(kind: str, runner: object, args: argparse.Namespace) -> dict[str, float]:
    with server(kind) as (url, proc):
        cpu, _ = run(runner(url, proc.pid, args.tabs, args.messages))  # type: ignore[operator]
        best = min(
            run(runner(url, proc.pid, 1, args.single))[1]  # type: ignore[operator]
            for _ in range(args.single_runs)
        )
        out = {
            "single_rate": args.single / best,
            "us_per_delivery": cpu / (args.tabs * args.messages) * 1e6,
        }
        if runner is run_interlock:
            lat = sorted(run(reconnect_latencies(url, args.tabs, 100)))
            out["replay_p50_ms"] = statistics.median(lat) * 1e3
            out["replay_p99_ms"] = lat[int(len(lat) * 0.99) - 1] * 1e3
        return out


def ratio(a: float, b: float) -> float:
    """``a / b``; NaN when ``b`` is 0 (a run too short for the clock ticks of CPU time)."""
    return a / b if b else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--redis", default=DEFAULT_URL)
    parser.add_argument("--messages", type=int, default=2000, help="messages per fan-out run")
    parser.add_argument("--single", type=int, default=20000, help="messages, single-tab run")
    parser.add_argument("--single-runs", type=int, default=3)
    parser.add_argument("--tabs", type=int, default=100)
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    # Every tab comes from 127.0.0.1: above the per-address cap of WebSockets.
    os.environ["INTERLOCK_MAX_CONNECTIONS_PER_CLIENT"] = str(args.tabs * 2)
    results = {
        "bare-no-deflate": measure("bare-no-deflate", run_bare, args),
        "sqlite": measure("interlock", run_interlock, args),
    }
    with on_redis(args.redis):
        results["redis"] = measure("interlock", run_interlock, args)
    print(json.dumps(results, indent=2))
    bare, sqlite, red = results["bare-no-deflate"], results["sqlite"], results["redis"]
    print(
        f"one tab, msg/s: redis / sqlite {ratio(red['single_rate'], sqlite['single_rate']):.2f}, "
        f"redis / bare {ratio(red['single_rate'], bare['single_rate']):.2f}, "
        f"sqlite / bare {ratio(sqlite['single_rate'], bare['single_rate']):.2f}"
    )
    print(
        f"{args.tabs} tabs, CPU per delivery: redis / sqlite "
        f"{ratio(red['us_per_delivery'], sqlite['us_per_delivery']):.2f}, redis / bare "
        f"{ratio(red['us_per_delivery'], bare['us_per_delivery']):.2f}"
    )
    print(
        f"{args.tabs} tabs reconnecting, p99 to state_replay_complete: redis "
        f"{red['replay_p99_ms']:.1f} ms, sqlite {sqlite['replay_p99_ms']:.1f} ms"
    )


if __name__ == "__main__":
    main()
