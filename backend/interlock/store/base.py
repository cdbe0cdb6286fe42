"""The ``Store`` interface: where tasks, session messages, requests and artifacts live.

Guarantees every implementation gives (checked by ``tests/store/test_contract.py``):

* ``write`` is atomic: a ``WriteBatch`` is applied whole or not at all, and is durable when
  the call returns. Batches are applied in call order. The session layer calls it with many
  messages at once (group commit) and only broadcasts what it has written.
* Messages of a session are returned in ``seq`` order, exactly as written (the JSON text).
* Methods are coroutine-safe: concurrent callers are serialized by the implementation.

Errors (``interlock.exceptions``), the same for every method unless its docstring says more:

* ``StoreUnavailable``: the store cannot serve the call now but may later: the database is
  locked by another process, the disk is full or read-only, an I/O error occurred, or the
  call did not finish within the store timeout (``INTERLOCK_STORE_TIMEOUT``; no call waits
  longer). Retry with backoff; meanwhile the server is degraded.
* ``StoreError`` (the base class of ``StoreUnavailable``): the call can never succeed as
  asked: a constraint failed (a duplicate ``(session_id, seq)``), the database is damaged,
  not a database, or of another schema. Retrying does not help.

The original error, if any, is the ``__cause__``; the message names the database and says
what is wrong in words an operator understands.
"""

from __future__ import annotations

import abc
import json
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..states import TERMINAL

#: Lower-case ASCII letters only, as SQLite's ``lower()`` does: every store matches alike.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)

#: Task statuses after which nothing changes (``interlock.states.TERMINAL``, as stored).
TERMINAL_STATUSES = frozenset(status.value for status in TERMINAL)


@dataclass(slots=True)
class TaskRecord:
    """A task as stored. ``session_id`` equals ``task_id``."""

    task_id: str
    task_type: str
    parameters: dict[str, Any]
    status: str
    created_at: datetime
    progress: float = 0.0
    message: str | None = None
    stage: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    result: Any = None
    error: str | None = None
    last_seq: int = 0
    #: The users who may answer its prompts (admins always may); None: any operator.
    respondents: list[str] | None = None
    #: Who submitted it, and who cancelled it (user names): None with authentication off;
    #: ``cancelled_by`` also when no person cancelled it (the server did: see its reason).
    created_by: str | None = None
    cancelled_by: str | None = None


@dataclass(slots=True)
class StoredMessage:
    """One session message: its ``seq``, ``type`` and the JSON text sent on the wire."""

    session_id: str
    seq: int
    type: str
    data: str


@dataclass(slots=True)
class MessagePage:
    """Part of a session's log (``Store.read_messages``) and the bounds of the whole of it.

    ``first_seq`` / ``last_seq`` are the oldest and newest seq stored for the session (0 and
    0 when it has none); ``messages`` are in seq order."""

    messages: list[StoredMessage]
    first_seq: int
    last_seq: int


@dataclass(slots=True)
class TaskFilter:
    """More of what ``Store.list_tasks`` selects; every criterion given must hold.

    ``text`` matches, ignoring the case of ASCII letters, a part of the task's id, type,
    status message, error, creator or parameters (as JSON). ``created_after`` is inclusive,
    ``created_before`` exclusive."""

    task_type: str | None = None
    text: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def selects(self, task: TaskRecord) -> bool:
        """Whether ``task`` meets every criterion (for stores that filter in Python)."""
        if self.task_type is not None and task.task_type != self.task_type:
            return False
        if self.created_after is not None and task.created_at < self.created_after:
            return False
        if self.created_before is not None and task.created_at >= self.created_before:
            return False
        if self.text is not None:
            fields = (task.task_id, task.task_type, task.message, task.error, task.created_by)
            haystack = " ".join(f or "" for f in fields) + " " + json.dumps(task.parameters)
            return self.text.translate(_ASCII_LOWER) in haystack.translate(_ASCII_LOWER)
        return True


@dataclass(slots=True)
class RequestRecord:
    """A human request and, once resolved, its answer and who gave it."""

    request_id: str
    session_id: str
    seq: int
    kind: str
    prompt: str
    payload: dict[str, Any]
    status: str = "open"
    answer: Any = None
    answered_by: dict[str, Any] | None = None
    resolved_at: datetime | None = None


@dataclass(slots=True)
class Artifact:
    """A file a task produced (e.g. a CSV of a profile)."""

    task_id: str
    name: str
    content_type: str
    data: bytes


@dataclass(slots=True)
class WriteBatch:
    """Everything one group commit writes.

    ``trims`` maps a session id to ``(cut, keep)``: messages with ``seq < cut`` are deleted,
    except the one whose seq is ``keep`` (the open request), if any. Trims apply after inserts.
    The session layer trims only a log longer than ``INTERLOCK_LOG_MAX_MESSAGES``.
    """

    tasks: list[TaskRecord] = field(default_factory=list)
    messages: list[StoredMessage] = field(default_factory=list)
    requests: list[RequestRecord] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    trims: dict[str, tuple[int, int | None]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.tasks or self.messages or self.requests or self.artifacts or self.trims)

    def split(self) -> dict[str, WriteBatch]:
        """This batch as one batch per session, each in the original order."""
        parts: dict[str, WriteBatch] = {}

        def part(session_id: str) -> WriteBatch:
            return parts.setdefault(session_id, WriteBatch())

        for t in self.tasks:
            part(t.task_id).tasks.append(t)
        for m in self.messages:
            part(m.session_id).messages.append(m)
        for r in self.requests:
            part(r.session_id).requests.append(r)
        for a in self.artifacts:
            part(a.task_id).artifacts.append(a)
        for session_id, trim in self.trims.items():
            part(session_id).trims[session_id] = trim
        return parts

    def drop(self, session_id: str) -> None:
        """Remove everything of one session."""
        self.tasks = [t for t in self.tasks if t.task_id != session_id]
        self.messages = [m for m in self.messages if m.session_id != session_id]
        self.requests = [r for r in self.requests if r.session_id != session_id]
        self.artifacts = [a for a in self.artifacts if a.task_id != session_id]
        self.trims.pop(session_id, None)

    def discard(self, records: list[TaskRecord | RequestRecord]) -> None:
        """Remove these very record objects (compared by identity)."""
        ids = {id(r) for r in records}
        self.tasks = [t for t in self.tasks if id(t) not in ids]
        self.requests = [r for r in self.requests if id(r) not in ids]

    def clear(self) -> None:
        self.tasks, self.messages, self.requests, self.artifacts = [], [], [], []
        self.trims = {}


class Store(abc.ABC):
    """Durable storage behind the session layer."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Create or migrate the schema. Called once before any other method.

        ``StoreError`` when the database is damaged, not a database or of another schema;
        ``StoreUnavailable`` when it cannot be opened now (missing permission, read-only or
        full disk, locked). ``open`` may be called again after it failed."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Flush and release resources. No method is called afterwards. Does not raise for
        a store that is stuck: it then releases what it holds once the stuck call ends."""

    @abc.abstractmethod
    async def write(self, batch: WriteBatch) -> None:
        """Apply ``batch`` atomically and durably (see module docstring).

        On any exception nothing of the batch is applied, with one exception: when the call
        timed out (``StoreUnavailable``) while the batch was committing, it may still be
        applied; writing the *same* ``WriteBatch`` object again is then a no-op, so a retry
        loop must retry the same object, not a copy or a merge. ``StoreError`` when a
        message's ``(session_id, seq)`` is already stored or appears twice in the batch."""

    @abc.abstractmethod
    async def get_task(self, task_id: str) -> TaskRecord | None:
        """The task, or None when unknown."""

    @abc.abstractmethod
    async def list_tasks(
        self,
        *,
        status: str | None = None,
        created_by: str | None = None,
        limit: int = 100,
        offset: int = 0,
        where: TaskFilter | None = None,
    ) -> list[TaskRecord]:
        """Tasks newest first (by ``created_at``), optionally only those with ``status``
        and only those ``created_by`` that user (both: those with both) and only those
        ``where`` selects. ``offset`` skips that many of the selection first (paging). Finding one
        user's tasks does not read everyone's (the SQLite store has an index for it)."""

    @abc.abstractmethod
    async def unfinished_tasks(self) -> list[TaskRecord]:
        """Tasks whose status is not terminal (left behind by a crash)."""

    @abc.abstractmethod
    async def load_messages(self, session_id: str) -> list[StoredMessage]:
        """Every saved message of the session, in seq order: the whole log (up to
        ``INTERLOCK_LOG_MAX_MESSAGES``), so the server itself pages with ``read_messages``."""

    @abc.abstractmethod
    async def read_messages(
        self,
        session_id: str,
        *,
        after_seq: int = 0,
        before_seq: int | None = None,
        limit: int = 1000,
        newest: bool = False,
    ) -> MessagePage:
        """Stored messages with ``after_seq < seq < before_seq`` (no upper bound when
        ``before_seq`` is None), in seq order, at most ``limit`` of them: the oldest such
        ones, or the newest such ones when ``newest`` is true (paging backwards). Also the
        bounds of the session's whole stored log. An unknown session has an empty log.

        (On a Redis Stream keyed by seq: ``XRANGE``/``XREVRANGE`` with exclusive bounds and
        ``COUNT``, and the stream's first and last entry.)"""

    @abc.abstractmethod
    async def get_requests(self, session_id: str) -> list[RequestRecord]:
        """Every request of the session, oldest first."""

    @abc.abstractmethod
    async def get_artifact(self, task_id: str, name: str) -> Artifact | None:
        """One artifact with its data, or None."""

    @abc.abstractmethod
    async def list_artifacts(self, task_id: str) -> list[tuple[str, str]]:
        """``(name, content_type)`` of each artifact of the task."""

    @abc.abstractmethod
    async def prune(self, finished_before: datetime) -> int:
        """Delete terminal tasks completed before the cutoff, with everything they own."""
