"""``UploadStore``: uploaded files, stored by id in one folder, each with its metadata beside it.

Layout of ``<data dir>/uploads``:

* ``<id>``: the bytes, read-only (mode 0440). The id is 32 random hex digits; nothing a
  client sends becomes part of a path. The original file name is only metadata.
* ``<id>.json``: its :class:`Upload` (name, size, sha256, content type, who, when). An
  upload exists once this file does: it is written last, and removed first.
* ``.partial-*``: an upload still streaming in (or left by a crash; swept like the rest).
* ``.lock``: ``flock``-ed while the metadata is re-checked and changed, so marking an upload
  used and removing it never interleave, also between processes sharing the folder.

Metadata lives beside the file rather than in the ``Store``: the two are written, shared and
removed together, so they cannot disagree. Several instances share uploads by sharing this
folder (a network mount, like the rest of the data directory), which they need for the
bytes anyway; the lock makes removal safe among them where the mount supports ``flock``.

Every method that touches the disk runs its I/O in a worker thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import hashlib
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import BaseModel, ValidationError

log = logging.getLogger("interlock.uploads")

_ID = re.compile(r"[0-9a-f]{32}")
PARTIAL_PREFIX = ".partial-"
LOCK_FILE = ".lock"

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def is_upload_id(value: object) -> bool:
    """Whether ``value`` has the form of an upload id (it may still be unknown)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


class Upload(BaseModel):
    """What is known of one upload (its ``<id>.json``)."""

    upload_id: str
    filename: str
    size: int
    sha256: str
    content_type: str
    created_at: datetime
    #: When a task that refers to it was last created; None until then.
    last_used_at: datetime | None = None
    #: The user who uploaded it; None when authentication is off.
    uploaded_by: str | None = None

    @property
    def last_activity(self) -> datetime:
        return max(self.created_at, self.last_used_at or self.created_at)


class PendingUpload:
    """One upload on its way to disk: counted, hashed and written to a partial file.

    ``add`` (on the event loop) gathers the bytes parsed from one chunk of the body;
    ``flush`` writes them in a worker thread, so at most one chunk is held in memory.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = 0
        self._hash = hashlib.sha256()
        self._pieces: list[bytes] = []
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        # A buffered file, not a bare descriptor: its close waits for a write still running
        # in a worker thread (a cancelled request), so the descriptor is never reused under it.
        self._file = os.fdopen(fd, "wb")

    def add(self, data: bytes) -> None:
        self.size += len(data)
        self._pieces.append(data)

    async def flush(self) -> None:
        if self._pieces:
            pieces, self._pieces = self._pieces, []
            await asyncio.to_thread(self._write, pieces)

    def _write(self, pieces: list[bytes]) -> None:
        for piece in pieces:
            self._hash.update(piece)
            self._file.write(piece)

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def close(self, *, sync: bool) -> None:
        if self._file.closed:
            return
        try:
            if sync:
                self._file.flush()
                os.fsync(self._file.fileno())
        finally:
            self._file.close()

    def discard(self) -> None:
        """Drop the partial file (a failed or refused upload leaves nothing behind)."""
        with suppress(OSError):
            self.close(sync=False)
        with suppress(FileNotFoundError):
            self.path.unlink()


class UploadStore:
    """The uploads folder. ``ttl``: how long an upload no task used is kept."""

    def __init__(self, root: Path, *, ttl: timedelta, clock: Clock = utcnow) -> None:
        self.root = root
        self.ttl = ttl
        self.clock = clock

    # ----------------------------------------------------------------------- reading

    def path(self, upload_id: str) -> Path:
        """Where the bytes of ``upload_id`` are (they may have been removed)."""
        if not is_upload_id(upload_id):
            raise ValueError(f"not an upload id: {upload_id!r}")
        return self.root / upload_id

    async def get(self, upload_id: str) -> Upload | None:
        """The upload, or None when the id is unknown (or malformed)."""
        if not is_upload_id(upload_id):
            return None
        return await asyncio.to_thread(self._read, upload_id)

    def _meta_path(self, upload_id: str) -> Path:
        return self.root / f"{upload_id}.json"

    def _read(self, upload_id: str) -> Upload | None:
        try:
            text = self._meta_path(upload_id).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            upload = Upload.model_validate_json(text)
        except ValidationError:
            log.warning("ignoring upload %s: its metadata is damaged", upload_id)
            return None
        return upload if (self.root / upload_id).is_file() else None

    # ---------------------------------------------------------------------- receiving

    async def begin(self) -> PendingUpload:
        """A new partial file to stream an upload into."""

        def create() -> PendingUpload:
            self.root.mkdir(parents=True, exist_ok=True)
            return PendingUpload(self.root / f"{PARTIAL_PREFIX}{secrets.token_hex(8)}")

        return await asyncio.to_thread(create)

    async def commit(
        self, pending: PendingUpload, *, filename: str, content_type: str, uploaded_by: str | None
    ) -> Upload:
        """Make a fully received upload permanent under a new id and return it."""
        upload = Upload(
            upload_id=secrets.token_hex(16),
            filename=filename,
            size=pending.size,
            sha256=pending.sha256,
            content_type=content_type,
            created_at=self.clock(),
            uploaded_by=uploaded_by,
        )
        await asyncio.to_thread(self._commit, pending, upload)
        return upload

    def _commit(self, pending: PendingUpload, upload: Upload) -> None:
        pending.close(sync=True)
        target = self.root / upload.upload_id
        os.chmod(pending.path, 0o440)  # tasks read it; nothing should write it
        os.replace(pending.path, target)
        self._write_meta(upload)

    def _write_meta(self, upload: Upload) -> None:
        """Replace ``<id>.json`` atomically (a reader sees the old or the new one)."""
        temp = self.root / f"{PARTIAL_PREFIX}{upload.upload_id}.json"
        with temp.open("w", encoding="utf-8") as out:
            out.write(upload.model_dump_json())
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, self._meta_path(upload.upload_id))

    # ------------------------------------------------------- between nodes (Redis)

    async def export(self, upload_id: str) -> tuple[Upload, bytes] | None:
        """The upload and its bytes (to hand to the worker that runs a task), or None."""
        upload = await self.get(upload_id)
        if upload is None:
            return None
        try:
            data = await asyncio.to_thread(self.path(upload_id).read_bytes)
        except FileNotFoundError:
            return None
        return upload, data

    async def adopt(self, upload: Upload, data: bytes) -> None:
        """Keep an upload another node received, under its id (a no-op if it is here).
        Raises ValueError when ``data`` is not what ``upload`` describes."""
        if hashlib.sha256(data).hexdigest() != upload.sha256 or len(data) != upload.size:
            raise ValueError(f"upload {upload.upload_id} arrived damaged")
        if await self.get(upload.upload_id) is not None:
            return

        def write() -> None:
            self.root.mkdir(parents=True, exist_ok=True)
            temp = self.root / f"{PARTIAL_PREFIX}{secrets.token_hex(8)}"
            with temp.open("wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, 0o440)
            os.replace(temp, self.root / upload.upload_id)
            self._write_meta(upload)

        await asyncio.to_thread(write)

    # -------------------------------------------------------------------------- using

    async def use(self, upload_id: str) -> Upload | None:
        """Mark the upload used now (a task refers to it); None when it is gone."""
        return await asyncio.to_thread(self._use, upload_id)

    def _use(self, upload_id: str) -> Upload | None:
        with self._locked():
            upload = self._read(upload_id)
            if upload is None:
                return None
            upload.last_used_at = self.clock()
            self._write_meta(upload)
            return upload

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.root / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------------------ sweeping

    async def sweep(self, keep: Iterable[str] = ()) -> list[str]:
        """Remove every upload unused for ``ttl`` unless its id is in ``keep`` (those that
        unfinished tasks refer to), and partial or orphaned files as old. Returns the ids
        removed."""
        return await asyncio.to_thread(self._sweep, frozenset(keep), self.clock() - self.ttl)

    def _sweep(self, keep: frozenset[str], cutoff: datetime) -> list[str]:
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        removed = []
        names = {entry.name for entry in entries}
        for entry in entries:
            stem = entry.name.removesuffix(".json")
            if entry.name.endswith(".json") and is_upload_id(stem):
                if stem not in keep and self._remove_if_stale(stem, cutoff):
                    removed.append(stem)
            elif entry.name.startswith(PARTIAL_PREFIX) or (
                is_upload_id(entry.name) and f"{entry.name}.json" not in names
            ):
                self._remove_if_older(Path(entry.path), cutoff)
        return removed

    def _remove_if_stale(self, upload_id: str, cutoff: datetime) -> bool:
        # Re-read under the lock: a task created meanwhile has just marked it used.
        with self._locked():
            upload = self._read(upload_id)
            if upload is not None and upload.last_activity >= cutoff:
                return False
            with suppress(FileNotFoundError):
                self._meta_path(upload_id).unlink()  # first: from now on it is unknown
            with suppress(FileNotFoundError):
                (self.root / upload_id).unlink()
        since = upload.last_activity.isoformat() if upload else "its metadata was unreadable"
        log.info("removed upload %s (no task used it since %s)", upload_id, since)
        return True

    def _remove_if_older(self, path: Path, cutoff: datetime) -> None:
        with suppress(FileNotFoundError):
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) < cutoff:
                path.unlink()
