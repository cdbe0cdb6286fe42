"""The Redis key layout of ``RedisStore`` and the mapping between its values and the records.

Every key of one session carries the session id as a hash tag (``{sid}``), so a session's
keys live in one Redis Cluster slot and one script may touch them all::

    P{sid}:task        hash    the task record, one field per attribute (JSON values)
    P{sid}:log         stream  the whole log, entry id ``<seq>-0``, fields t, d (trimmed only past
                               INTERLOCK_LOG_MAX_MESSAGES, never the open request)
    P{sid}:seq         string  the highest seq ever stored (duplicates are refused below it)
    P{sid}:requests    hash    request id -> the request record (JSON)
    P{sid}:files       hash    artifact name -> content type
    P{sid}:filedata    hash    artifact name -> bytes

and the indexes across sessions (one key each, outside any session's slot)::

    Ptasks             zset    every task id, scored by created_at
    Pstatus:<status>   zset    the task ids with that status, scored by created_at
    Pby:<user>         zset    the task ids created_by that user, scored by created_at
    Pfinished          zset    terminal task ids, scored by completed_at (for pruning)
    Precords           hash    task id -> its record as one JSON object (a page of GET /tasks
                               is one HMGET; written with the indexes, after the task hash)

``P`` is the configured prefix (``INTERLOCK_REDIS_PREFIX``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import from_json

from ..states import TaskStatus
from .base import RequestRecord, TaskRecord

STATUSES = tuple(s.value for s in TaskStatus)

_DATES = ("created_at", "started_at", "completed_at")


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix."""

    prefix: str

    def session(self, sid: str, what: str) -> str:
        return f"{self.prefix}{{{sid}}}:{what}"

    def of_session(self, sid: str) -> list[str]:
        """Every key a session owns, in the order ``WRITE_SESSION`` takes them."""
        return [self.session(sid, w) for w in ("seq", "log", "task", "requests", "files")] + [
            self.session(sid, "filedata")
        ]

    @property
    def tasks(self) -> str:
        return f"{self.prefix}tasks"

    @property
    def finished(self) -> str:
        return f"{self.prefix}finished"

    @property
    def records(self) -> str:
        return f"{self.prefix}records"

    def status(self, status: str) -> str:
        return f"{self.prefix}status:{status}"

    def by(self, user: str) -> str:
        return f"{self.prefix}by:{user}"


def task_fields(t: TaskRecord) -> list[str]:
    """``field, value, field, value, …`` of a task hash: every attribute, JSON-encoded."""
    out: list[str] = []
    for name in TaskRecord.__slots__:
        value = getattr(t, name)
        if name in _DATES:
            value = value.isoformat() if value is not None else None
        out += [name, json.dumps(value)]
    return out


#: The attributes of a task record: a hash field of another name is not one of them.
_TASK_FIELDS = frozenset(TaskRecord.__slots__)


def task_json(t: TaskRecord) -> str:
    """The whole record as one JSON object (``Precords``: a page of them is one HMGET)."""
    fields = task_fields(t)
    pairs = zip(fields[::2], fields[1::2], strict=True)
    return "{" + ",".join(f"{json.dumps(name)}:{value}" for name, value in pairs) + "}"


def tasks_from_json(raws: list[bytes]) -> list[TaskRecord]:
    """Records from ``task_json`` texts, parsed as one JSON array in one call (pydantic's
    parser: a third of the stdlib's time; a page of GET /tasks is 100 of them)."""
    out = []
    for values in from_json(b"[" + b",".join(raws) + b"]"):
        for name in _DATES:
            if values.get(name) is not None:
                values[name] = datetime.fromisoformat(values[name])
        try:
            out.append(TaskRecord(**values))
        except TypeError:  # a field this version does not know (written by a newer one)
            out.append(TaskRecord(**{k: v for k, v in values.items() if k in _TASK_FIELDS}))
    return out


def task_from_hash(h: dict[bytes, bytes]) -> TaskRecord:
    # One JSON text for the whole hash (its fields are attribute names, its values JSON),
    # parsed in one call: a third of the time of a json.loads per field, which was most of
    # GET /tasks on Redis (100 records a page).
    try:
        values: dict[str, Any] = json.loads(
            b"{%b}" % b",".join(b'"%b":%b' % kv for kv in h.items())
        )
    except ValueError:  # a field that is not JSON: say which
        values = {k.decode(): json.loads(v) for k, v in h.items()}
    for name in _DATES:
        if values.get(name) is not None:
            values[name] = datetime.fromisoformat(values[name])
    return TaskRecord(**{k: v for k, v in values.items() if k in _TASK_FIELDS})


def request_json(r: RequestRecord) -> str:
    return json.dumps(
        {
            "request_id": r.request_id,
            "session_id": r.session_id,
            "seq": r.seq,
            "kind": r.kind,
            "prompt": r.prompt,
            "payload": r.payload,
            "status": r.status,
            "answer": r.answer,
            "answered_by": r.answered_by,
            "resolved_at": r.resolved_at.isoformat() if r.resolved_at is not None else None,
        }
    )


def request_from_json(raw: bytes) -> RequestRecord:
    d = json.loads(raw)
    resolved = d.pop("resolved_at")
    return RequestRecord(
        **d, resolved_at=datetime.fromisoformat(resolved) if resolved is not None else None
    )


def score(when: datetime) -> float:
    return when.timestamp()


#: One session's part of a batch, applied atomically (a script runs whole, nothing between).
#: KEYS: seq, log, task, requests, files, filedata. ARGV: retry ("1": a retry of a batch that
#: may have been applied: messages at or below the stored seq are skipped), then counted
#: groups: messages (seq, type, data), task fields (field, value), requests (id, json),
#: artifacts (name, content type, data), then the trim (cut, keep; 0 / -1 for none).
#: Every check runs before the first write, so a refused part writes nothing.
WRITE_SESSION = """
local retry = ARGV[1] == '1'
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local i = 2
local n = tonumber(ARGV[i]); i = i + 1
local prev = 0
for k = 0, n - 1 do
  local seq = tonumber(ARGV[i + 3 * k])
  if seq <= prev then
    return redis.error_reply('DUPSEQ seq ' .. seq .. ' appears twice or out of order')
  end
  if seq <= last and not retry then
    return redis.error_reply('DUPSEQ seq ' .. seq .. ' is stored already')
  end
  prev = seq
end
local top = last
for k = 0, n - 1 do
  local seq = tonumber(ARGV[i + 3 * k])
  if seq > last then
    redis.call('XADD', KEYS[2], seq .. '-0', 't', ARGV[i + 3 * k + 1], 'd', ARGV[i + 3 * k + 2])
    top = seq
  end
end
if top > last then redis.call('SET', KEYS[1], top) end
i = i + 3 * n
n = tonumber(ARGV[i]); i = i + 1
if n > 0 then redis.call('HSET', KEYS[3], unpack(ARGV, i, i + 2 * n - 1)) end
i = i + 2 * n
n = tonumber(ARGV[i]); i = i + 1
for k = 0, n - 1 do redis.call('HSET', KEYS[4], ARGV[i + 2 * k], ARGV[i + 2 * k + 1]) end
i = i + 2 * n
n = tonumber(ARGV[i]); i = i + 1
for k = 0, n - 1 do
  redis.call('HSET', KEYS[5], ARGV[i + 3 * k], ARGV[i + 3 * k + 1])
  redis.call('HSET', KEYS[6], ARGV[i + 3 * k], ARGV[i + 3 * k + 2])
end
i = i + 3 * n
local cut, keep = tonumber(ARGV[i]), ARGV[i + 1] .. '-0'
if cut > 1 then
  for _, entry in ipairs(redis.call('XRANGE', KEYS[2], '-', '(' .. cut .. '-0')) do
    if entry[1] ~= keep then redis.call('XDEL', KEYS[2], entry[1]) end
  end
end
return 1
"""
