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

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' raw client

from tests.support.rawws import StalledTab

from ping_flood import flood_bench

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
    flood_bench(__doc__, flood)


if __name__ == "__main__":
    main()
