"""``UploadSweeper``: removes uploads that no task has used for a while, now and then.

"Used" means a task referring to the upload was created (which stamps ``last_used_at``).
An upload that an unfinished task refers to is never removed, however old: the unfinished
tasks are read from the ``Store``, which every instance shares, and any string in their
parameters that is the id of an upload keeps it. When the store cannot be read, nothing is
removed this time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ..exceptions import StoreError
from ..store import Store
from .files import UploadStore, is_upload_id

log = logging.getLogger("interlock.uploads")

#: Longest pause between two sweeps (seconds); shorter when the TTL is under four hours.
MAX_INTERVAL = 3600.0


def referenced_ids(value: Any) -> set[str]:
    """Every upload id in a JSON value (task parameters as stored)."""
    if is_upload_id(value):
        return {value}
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return set().union(*(referenced_ids(item) for item in value))
    return set()


class UploadSweeper:
    """Sweeps ``uploads`` once at ``start`` and then every ``interval`` seconds."""

    def __init__(self, uploads: UploadStore, store: Store) -> None:
        self.uploads = uploads
        self.store = store
        self.interval = min(MAX_INTERVAL, uploads.ttl.total_seconds() / 4)
        self._task: asyncio.Task[None] | None = None

    async def sweep(self) -> list[str]:
        """Remove what is due now; the ids removed."""
        keep: set[str] = set()
        for record in await self.store.unfinished_tasks():
            keep |= referenced_ids(record.parameters)
        return await self.uploads.sweep(keep)

    async def _sweep_quietly(self) -> None:
        try:
            removed = await self.sweep()
        except StoreError as exc:
            log.warning("not sweeping uploads: the store cannot list unfinished tasks (%s)", exc)
        except Exception:
            log.exception("sweeping uploads failed (will retry later)")
        else:
            if removed:
                log.info("removed %d unused uploads", len(removed))

    async def _loop(self) -> None:
        while True:
            await self._sweep_quietly()
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="interlock-upload-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
