"""A ping flood against one tab's latency: what a client that floods PINGs costs the others.

Runs Interlock (pinned to CPU 0, as bench/fanout.py does) with a paced session (``--rate``
progress messages per second, each followed by a stream line) watched by one tab, twice:
alone, and while flooders send PINGs as fast as they can without reading a byte, each
reconnecting as soon as the server closes it (with ``since`` ahead of the session, so that a
reconnect costs a handshake but no replay: this measures the pings, not reconnect churn).
Prints the tab's latency (message ``ts`` to receipt, one clock) p50 / p99 / max for both
runs, how many flooders the server closed, and how much the server's peak RSS grew.

Usage: python bench/ping_flood.py [--seconds 5] [--rate 50] [--flooders 2] [--ws coalescing]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' raw client

from tests.support.rawws import StalledTab

from fanout import INTERLOCK_KINDS, server


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def flood(port: int, path: str, stop: threading.Event, closed: list[int]) -> None:
    """Flood pings, reconnecting whenever the server closes the flooder, until ``stop``."""
    while not stop.is_set():
        try:
            tab = StalledTab("127.0.0.1", port, path)
        except OSError:
            continue
        try:
            tab.sock.settimeout(2)
            tab.flood_pings(200_000)
        except TimeoutError:
            pass  # the server stopped reading this flooder (it is closing it)
        finally:
            tab.close()
        closed.append(1)


def start_session(url: str, seconds: float, rate: float) -> str:
    steps = int(seconds * rate)
    r = httpx.post(
        f"{url}/tasks",
        json={"task_type": "dummy_long", "parameters": {"duration": seconds, "steps": steps}},
    )
    sid: str = r.json()["task_id"]
    return sid


async def watch(url: str, sid: str) -> list[float]:
    """One tab on the session: the latency of each live message it gets, in ms."""
    latencies: list[float] = []
    ws_url = url.replace("http", "ws") + f"/ws/{sid}"
    live = False
    async with connect(ws_url, max_queue=None) as ws:
        while True:
            msg = json.loads(await ws.recv())
            now = time.time()
            if live and msg["type"] in {"progress", "stream"}:
                sent = datetime.fromisoformat(msg["ts"]).timestamp()
                latencies.append((now - sent) * 1e3)
            live = live or msg["type"] == "state_replay_complete"
            if msg["type"] == "task_completed":
                return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return (
        f"p50 {statistics.median(ordered):.2f} ms, p99 {p99:.2f} ms, max {ordered[-1]:.2f} ms"
        f" ({len(ordered)} messages)"
    )


Flooder = Callable[[int, str, threading.Event, list[int]], None]


def flood_bench(description: str | None, flood: Flooder) -> None:
    """The paced session's tab, alone and then while ``--flooders`` threads run ``flood``
    (port, path, stop, closed) against it; prints both latencies and the server's growth.
    bench/message_flood.py runs it with a flooder of its own."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rate", type=float, default=50, help="progress messages per second")
    parser.add_argument("--flooders", type=int, default=2)
    parser.add_argument("--ws", choices=sorted(INTERLOCK_KINDS), default="interlock")
    args = parser.parse_args()
    with server(args.ws) as (url, proc):
        quiet = asyncio.run(watch(url, start_session(url, args.seconds, args.rate)))
        rss0 = peak_rss_mib(proc.pid)
        port = int(url.rsplit(":", 1)[1])
        sid = start_session(url, args.seconds, args.rate)
        stop = threading.Event()
        closed: list[int] = []
        threads = [
            # since far ahead: a flooder's reconnect costs a handshake, not a replay.
            threading.Thread(
                target=flood, args=(port, f"/ws/{sid}?since=1000000", stop, closed), daemon=True
            )
            for _ in range(args.flooders)
        ]
        for t in threads:
            t.start()
        try:
            flooded = asyncio.run(watch(url, sid))
        finally:
            stop.set()
            for t in threads:
                t.join(10)
        grown = peak_rss_mib(proc.pid) - rss0
    print(f"{args.ws}, one tab at {args.rate:.0f}+{args.rate:.0f} msg/s:")
    print(f"  alone:          {summary(quiet)}")
    print(f"  during a flood: {summary(flooded)}")
    print(f"  {len(closed)} flooder connections closed by the server; peak RSS +{grown:.1f} MiB")


def main() -> None:
    flood_bench(__doc__, flood)


if __name__ == "__main__":
    main()
