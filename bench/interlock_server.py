"""Interlock with the benchmarks' task types (bench/bench_tasks.py), served by uvicorn."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import uvicorn

from bench_tasks import register
from interlock.app import create_app
from interlock.settings import Settings
from interlock.tasks import builtin_registry
from interlock.wire import CoalescingWebSocketProtocol, FramesWebSocketProtocol

#: --ws: the fast path with write coalescing (the default), without it, or plain ASGI sends.
PROTOCOLS: dict[str, type[asyncio.Protocol] | str] = {
    "coalescing": CoalescingWebSocketProtocol,
    "frames": FramesWebSocketProtocol,
    "asgi": "websockets-sansio",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--history-size", type=int, default=100)
    # The bench clients share one core, so they read slower than the server writes; a deep
    # per-tab queue keeps them connected (the baseline instead slows its producer down).
    parser.add_argument("--ws-queue-size", type=int, default=1_000_000)
    parser.add_argument("--ws", choices=PROTOCOLS, default="coalescing")
    parser.add_argument("--max-concurrent", type=int, default=1000)
    args = parser.parse_args()
    registry = builtin_registry()
    register(registry)

    settings = Settings(
        port=args.port,
        data_dir=args.data_dir,
        history_size=args.history_size,
        max_concurrent=args.max_concurrent,
        log_level="warning",
        ws_queue_size=args.ws_queue_size,
        # Every bench tab comes from 127.0.0.1: the per-address cap (64) would refuse 100.
        max_connections_per_client=100_000,
    )
    app = create_app(settings, registry=registry)
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=args.port,
        log_level="warning",
        ws_max_size=settings.ws_max_message_bytes,
        ws=PROTOCOLS[args.ws],
    )


if __name__ == "__main__":
    main()
