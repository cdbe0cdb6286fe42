"""Paced latency: a session emitting at a steady pace to many tabs, against bare uvicorn.

One session emits ``--rate`` messages per second (50) for ``--seconds`` (10) to ``--tabs``
tabs (100); the bare baseline (bench/baseline_app.py ``/paced``, uvicorn with
permessage-deflate off) broadcasts at the same pace in the same run. Every message carries
its emit time (``time.time()`` just before it is emitted); each tab records receive - emit.
Each server runs alone pinned to CPU 0 (bench/fanout.py's ``server``); the tabs are raw
sockets read by one ``epoll`` loop pinned to CPU 1, each read stamped as it returns, so the
client adds microseconds, not a library's milliseconds. Interlock's latency includes its
group commit: nothing reaches a tab before it is in SQLite.

The kinds run alternately for ``--rounds`` rounds, so noise from other work on the machine
falls on both. Prints, per kind, latency p50 / p99 / max (each round and overall) and the
server's CPU per delivered message, then Interlock minus bare (ms) and Interlock / bare.

``--variant NAME=DIR`` adds Interlock run from another source tree (DIR holds the
``interlock`` package, e.g. ``git worktree add /tmp/base main`` then ``/tmp/base/backend``):
an A/B of a change in one run.

Usage: python bench/latency.py [--rate 50] [--seconds 10] [--tabs 100] [--rounds 2]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import select
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fanout import cpu_seconds, server

#: The first messages of a run warm caches on both sides: left out of the figures.
WARMUP = 25
#: In the message that ends a run, and in no other.
TERMINAL = b'"task_completed"'


class Tab:
    """A minimal WebSocket client: handshake, then unmasked server frames from a buffer."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        buffer = b""
        while b"\r\n\r\n" not in buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            buffer += chunk
        head, self.buffer = buffer.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError(head.decode(errors="replace"))
        self.sock.setblocking(False)
        self.done = False

    def messages(self) -> list[bytes]:
        """Complete text frames in the buffer (taken out of it)."""
        out = []
        buf = self.buffer
        pos = 0
        while len(buf) - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1] & 0x7F
            head = 2
            if b1 == 126:
                if len(buf) - pos < 4:
                    break
                (b1,) = struct.unpack_from("!H", buf, pos + 2)
                head = 4
            elif b1 == 127:
                if len(buf) - pos < 10:
                    break
                (b1,) = struct.unpack_from("!Q", buf, pos + 2)
                head = 10
            if len(buf) - pos < head + b1:
                break
            if b0 & 0x0F == 0x1:
                out.append(buf[pos + head : pos + head + b1])
            pos += head + b1
        self.buffer = buf[pos:]
        return out

    def close(self) -> None:
        self.sock.close()


def read_until(tabs: list[Tab], marker: bytes, timeout: float = 30) -> list[bytes]:
    """Read every tab until it got a message containing ``marker``; return those."""
    found: dict[int, bytes] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(tabs):
        for i, tab in enumerate(tabs):
            if i in found:
                continue
            try:
                chunk = tab.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise ConnectionError("a tab was closed")
            tab.buffer += chunk
            for msg in tab.messages():
                if marker in msg:
                    found[i] = msg
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(tabs) - len(found)} tabs never got {marker!r}")
        time.sleep(0.001)
    return [found[i] for i in range(len(tabs))]


def record(tabs: list[Tab], timeout: float) -> list[float]:
    """Latency (seconds) of every ``stream`` message to every tab, until each has the
    terminal message. The loop only reads and stamps (a few microseconds a read, so a burst
    to 100 tabs is read as fast as it is sent); frames are parsed after the run."""
    poller = select.epoll()
    by_fd = {tab.sock.fileno(): tab for tab in tabs}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    reads: list[tuple[Tab, bytes, float]] = []
    tails = dict.fromkeys(by_fd.values(), b"")
    left = len(tabs)
    deadline = time.monotonic() + timeout
    try:
        while left:
            for fd, _ in poller.poll(1.0):
                tab = by_fd[fd]
                chunk = tab.sock.recv(262144)
                reads.append((tab, chunk, time.time()))
                if not chunk:
                    raise ConnectionError("a tab was closed")
                seen = tails[tab] + chunk
                if TERMINAL in seen and not tab.done:
                    tab.done = True
                    left -= 1
                tails[tab] = seen[-len(TERMINAL) :]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{left} tabs did not finish")
    finally:
        poller.close()
    latencies: list[float] = []
    for tab, chunk, now in reads:
        tab.buffer += chunk
        for msg in tab.messages():
            data = json.loads(msg)
            if data["type"] == "stream":
                latencies.append(now - float(data["content"]))
    return latencies


def run_bare(url: str, pid: int, tabs: int, rate: float, count: int) -> tuple[list[float], float]:
    port = int(url.rsplit(":", 1)[1])
    conns = [Tab(port, "/ws") for _ in range(tabs)]
    try:
        time.sleep(0.2)  # the last accept() has added its socket to the broadcast set
        cpu0 = cpu_seconds(pid)
        httpx.post(f"{url}/paced", params={"rate": rate, "count": count}).raise_for_status()
        latencies = record(conns, count / rate + 30)
        return latencies, cpu_seconds(pid) - cpu0
    finally:
        for c in conns:
            c.close()


def run_interlock(
    url: str, pid: int, tabs: int, rate: float, count: int
) -> tuple[list[float], float]:
    port = int(url.rsplit(":", 1)[1])
    r = httpx.post(
        f"{url}/tasks",
        json={"task_type": "bench_paced", "parameters": {"rate": rate, "count": count}},
    )
    r.raise_for_status()
    sid = r.json()["task_id"]
    conns = [Tab(port, f"/ws/{sid}") for _ in range(tabs)]
    try:
        # Every tab is subscribed once it has the prompt (replayed or live).
        prompt = json.loads(read_until(conns, b'"request_confirmation"')[0])
        cpu0 = cpu_seconds(pid)
        httpx.post(
            f"{url}/tasks/{sid}/answer",
            json={"value": True, "request_id": prompt["request_id"]},
        ).raise_for_status()
        latencies = record(conns, count / rate + 30)
        return latencies, cpu_seconds(pid) - cpu0
    finally:
        for c in conns:
            c.close()


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)
    rounds: list[tuple[float, float]] = field(default_factory=list)  # (p50, p99) ms
    cpu: float = 0.0
    deliveries: int = 0

    def add(self, latencies: list[float], cpu: float, tabs: int) -> None:
        kept = latencies[WARMUP * tabs :]
        self.latencies += kept
        self.rounds.append((percentile(kept, 0.5) * 1e3, percentile(kept, 0.99) * 1e3))
        self.cpu += cpu
        self.deliveries += len(latencies)

    def p(self, q: float) -> float:
        return percentile(self.latencies, q) * 1e3

    @property
    def us_per_delivery(self) -> float:
        return self.cpu / self.deliveries * 1e6


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=50, help="messages per second")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--tabs", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help="also run Interlock from DIR (holding the interlock package) as NAME",
    )
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    count = round(args.rate * args.seconds)
    kinds: list[tuple[str, str, Path | None]] = [
        ("bare", "bare-no-deflate", None),
        ("interlock", "interlock", None),
    ]
    for spec in args.variant:
        name, _, src = spec.partition("=")
        kinds.append((name, "interlock", Path(src).resolve()))
    results = {name: Figures() for name, _, _ in kinds}
    for _ in range(args.rounds):
        for name, kind, src in kinds:
            runner = run_bare if kind.startswith("bare") else run_interlock
            # Interlock as configured by default: history trimmed to 100 messages.
            with server(kind, src=src, history_size=100) as (url, proc):
                latencies, cpu = runner(url, proc.pid, args.tabs, args.rate, count)
            results[name].add(latencies, cpu, args.tabs)
    print(
        f"paced latency: {args.rate:g} msg/s for {args.seconds:g} s to {args.tabs} tabs, "
        f"{args.rounds} rounds (first {WARMUP} messages of each left out)"
    )
    for name, fig in results.items():
        rounds = ", ".join(f"{p50:.2f}/{p99:.2f}" for p50, p99 in fig.rounds)
        print(
            f"  {name:>12}: p50 {fig.p(0.5):6.2f} ms  p99 {fig.p(0.99):6.2f} ms  max "
            f"{fig.p(1.0):6.2f} ms  (rounds p50/p99: {rounds}); server CPU "
            f"{fig.us_per_delivery:.2f} us per delivery"
        )
    bare = results["bare"]
    for name, fig in results.items():
        if name == "bare":
            continue
        print(
            f"  {name} - bare: p50 {fig.p(0.5) - bare.p(0.5):+.2f} ms, p99 "
            f"{fig.p(0.99) - bare.p(0.99):+.2f} ms (target within 1 ms); {name} / bare: p50 "
            f"{fig.p(0.5) / bare.p(0.5):.2f}x, p99 {fig.p(0.99) / bare.p(0.99):.2f}x, CPU per "
            f"delivery {fig.us_per_delivery / bare.us_per_delivery:.2f}x"
        )


if __name__ == "__main__":
    main()
