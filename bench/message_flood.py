"""A message flood against one tab's latency: what a client that floods JSON messages costs
the others, now that each connection's messages are rate limited (INTERLOCK_WS_RATE).

Runs Interlock as bench/ping_flood.py does, with a paced session watched by one tab, twice:
alone, and while flooders send ``{"type":"ping"}`` text frames as fast as they can without
reading a byte, each reconnecting as soon as the server closes it (1008 once its refusals
outrun the rate; ``since`` ahead of the session, so a reconnect costs a handshake, not a
replay). Prints the tab's latency p50 / p99 / max for both runs, how many flooder
connections the server closed, and how much the server's peak RSS grew.

Usage: python bench/message_flood.py [--seconds 5] [--rate 50] [--flooders 2] [--ws coalescing]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' raw client

from tests.support.rawws import StalledTab

from fanout import INTERLOCK_KINDS, server
from ping_flood import peak_rss_mib, start_session, summary, watch

MESSAGE = b'{"type":"ping"}'
TEXT = 0x1


def flood(port: int, path: str, stop: threading.Event, closed: list[int]) -> None:
    """Flood JSON messages, reconnecting whenever the server closes the flooder."""
    while not stop.is_set():
        try:
            tab = StalledTab("127.0.0.1", port, path)
        except OSError:
            continue
        try:
            tab.sock.settimeout(2)
            batch = tab.frame(TEXT, MESSAGE) * 256
            while not stop.is_set():
                tab.sock.sendall(batch)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            pass  # closed (or no longer read) by the server
        finally:
            tab.close()
        closed.append(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
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


if __name__ == "__main__":
    main()
