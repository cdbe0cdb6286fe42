"""The bare baseline: FastAPI + uvicorn broadcasting to WebSockets, nothing else.

No seq, no history, no persistence: one JSON text per message, sent to every socket.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from datetime import UTC, datetime

from fastapi import FastAPI, WebSocket, WebSocketDisconnect

app = FastAPI()
clients: set[WebSocket] = set()
#: bench/scale.py's records: what a bare app keeps of a task, newest last.
records: dict[str, dict[str, object]] = {}


@app.websocket("/ws")
async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    clients.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        clients.discard(websocket)


@app.post("/stream")
async def stream(count: int) -> dict[str, int]:
    """Broadcast ``count`` messages, then a terminal one, in the background."""

    async def run() -> None:
        for i in range(count):
            data = json.dumps({"type": "stream", "content": f"line {i}"})
            for client in list(clients):
                await client.send_text(data)
            if i % 64 == 0:
                await asyncio.sleep(0)
        done = json.dumps({"type": "task_completed", "result": None})
        for client in list(clients):
            await client.send_text(done)

    asyncio.get_running_loop().create_task(run())
    return {"clients": len(clients)}


@app.post("/paced")
async def paced(rate: float, count: int) -> dict[str, int]:
    """Broadcast ``count`` messages at ``rate`` per second, each carrying its emit time
    (``time.time()``) as its content, then a terminal one, in the background."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(count):
            await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
            data = json.dumps({"type": "stream", "content": repr(time.time())})
            for client in list(clients):
                await client.send_text(data)
        done = json.dumps({"type": "task_completed", "result": None})
        for client in list(clients):
            await client.send_text(done)

    asyncio.get_running_loop().create_task(run())
    return {"clients": len(clients)}


@app.post("/tasks", status_code=202)
async def create(body: dict[str, object]) -> dict[str, object]:
    """Keep a task-shaped record in memory (bench/scale.py's baseline for POST /tasks)."""
    task_id = uuid.uuid4().hex
    records[task_id] = {
        "task_id": task_id,
        "task_type": body.get("task_type"),
        "status": "waiting",
        "parameters": body.get("parameters"),
        "created_at": datetime.now(UTC).isoformat(),
    }
    return records[task_id]


@app.get("/tasks")
async def newest(limit: int = 100) -> list[dict[str, object]]:
    """The newest ``limit`` records (bench/scale.py's baseline for GET /tasks)."""
    return [records[k] for k in itertools.islice(reversed(records), limit)]
