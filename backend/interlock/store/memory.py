"""In-memory ``Store``: nothing survives the process. For tests and throwaway servers."""

from __future__ import annotations

import asyncio
import bisect
import copy
from datetime import datetime

from ..exceptions import StoreError
from .base import (
    TERMINAL_STATUSES,
    Artifact,
    MessagePage,
    RequestRecord,
    Store,
    StoredMessage,
    TaskFilter,
    TaskRecord,
    WriteBatch,
)


class MemoryStore(Store):
    """Dicts behind a lock; ``write`` applies a batch whole (it never yields half-way)."""

    def __init__(self) -> None:
        self._tasks: dict[str, TaskRecord] = {}
        self._messages: dict[str, dict[int, StoredMessage]] = {}
        self._requests: dict[str, RequestRecord] = {}
        self._artifacts: dict[tuple[str, str], Artifact] = {}
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def write(self, batch: WriteBatch) -> None:
        async with self._lock:
            seen: set[tuple[str, int]] = set()
            for m in batch.messages:  # check first: a batch applies whole or not at all
                key = (m.session_id, m.seq)
                if key in seen or m.seq in self._messages.get(m.session_id, {}):
                    raise StoreError(f"duplicate message seq {m.seq} of session {m.session_id}")
                seen.add(key)
            for task in batch.tasks:
                self._tasks[task.task_id] = copy.deepcopy(task)
            for m in batch.messages:
                self._messages.setdefault(m.session_id, {})[m.seq] = m
            for r in batch.requests:
                self._requests[r.request_id] = copy.deepcopy(r)
            for a in batch.artifacts:
                self._artifacts[(a.task_id, a.name)] = a
            for session_id, (cut, keep) in batch.trims.items():
                box = self._messages.get(session_id, {})
                for seq in [s for s in box if s < cut and s != keep]:
                    del box[seq]

    async def get_task(self, task_id: str) -> TaskRecord | None:
        task = self._tasks.get(task_id)
        return copy.deepcopy(task) if task else None

    async def list_tasks(
        self,
        *,
        status: str | None = None,
        created_by: str | None = None,
        limit: int = 100,
        offset: int = 0,
        where: TaskFilter | None = None,
    ) -> list[TaskRecord]:
        tasks = [
            t
            for t in self._tasks.values()
            if (status is None or t.status == status)
            and (created_by is None or t.created_by == created_by)
            and (where is None or where.selects(t))
        ]
        tasks.sort(key=lambda t: t.created_at, reverse=True)
        return [copy.deepcopy(t) for t in tasks[offset : offset + limit]]

    async def unfinished_tasks(self) -> list[TaskRecord]:
        tasks = [t for t in self._tasks.values() if t.status not in TERMINAL_STATUSES]
        return [copy.deepcopy(t) for t in sorted(tasks, key=lambda t: t.created_at)]

    async def load_messages(self, session_id: str) -> list[StoredMessage]:
        box = self._messages.get(session_id, {})
        return [box[s] for s in sorted(box)]

    async def read_messages(
        self,
        session_id: str,
        *,
        after_seq: int = 0,
        before_seq: int | None = None,
        limit: int = 1000,
        newest: bool = False,
    ) -> MessagePage:
        box = self._messages.get(session_id, {})
        seqs = sorted(box)
        lo = bisect.bisect_right(seqs, after_seq)
        hi = len(seqs) if before_seq is None else bisect.bisect_left(seqs, before_seq)
        hi = max(lo, hi)
        chosen = seqs[max(lo, hi - limit) : hi] if newest else seqs[lo : min(hi, lo + limit)]
        return MessagePage(
            [box[s] for s in chosen], seqs[0] if seqs else 0, seqs[-1] if seqs else 0
        )

    async def get_requests(self, session_id: str) -> list[RequestRecord]:
        reqs = [r for r in self._requests.values() if r.session_id == session_id]
        return [copy.deepcopy(r) for r in sorted(reqs, key=lambda r: r.seq)]

    async def get_artifact(self, task_id: str, name: str) -> Artifact | None:
        return self._artifacts.get((task_id, name))

    async def list_artifacts(self, task_id: str) -> list[tuple[str, str]]:
        return sorted(
            (a.name, a.content_type) for a in self._artifacts.values() if a.task_id == task_id
        )

    async def prune(self, finished_before: datetime) -> int:
        async with self._lock:
            doomed = [
                t.task_id
                for t in self._tasks.values()
                if t.status in TERMINAL_STATUSES
                and t.completed_at is not None
                and t.completed_at < finished_before
            ]
            for task_id in doomed:
                del self._tasks[task_id]
                self._messages.pop(task_id, None)
                for rid in [
                    r.request_id for r in self._requests.values() if r.session_id == task_id
                ]:
                    del self._requests[rid]
                for key in [k for k in self._artifacts if k[0] == task_id]:
                    del self._artifacts[key]
            return len(doomed)
