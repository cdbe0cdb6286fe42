"""The records of ``RedisAuthStore`` as JSON, and the Lua scripts that change them.

A user is ``{"role", "password_hash", "created_at"}``; a credential ``{"kind", "user",
"digest", "created_at", "expires_at", "last_used_at", "revoked_at"}``. Times are the same
fixed-precision UTC text as in ``auth.sqlite3`` (``sqlite_schema.iso``): all of one shape,
so a script compares them as text (under any collation Redis's Lua uses). A script runs
whole, with nothing in between: each write below is atomic across the keys it names. Every
script takes its keys in the order of ``RedisAuthStore._keys`` (users, creds, digest,
generation), so each names every key it may touch.
"""

from __future__ import annotations

import json
from datetime import datetime

from .roles import Role
from .sqlite_schema import iso, time_of
from .store import CredentialKind, CredentialRecord, Grant, User


def user_json(user: User) -> str:
    return json.dumps(
        {
            "role": user.role.value,
            "password_hash": user.password_hash,
            "created_at": iso(user.created_at),
        }
    )


def user_from(name: str, raw: bytes) -> User:
    d = json.loads(raw)
    return User(name, Role(d["role"]), datetime.fromisoformat(d["created_at"]), d["password_hash"])


def record_json(record: CredentialRecord, secret_digest: str) -> str:
    return json.dumps(
        {
            "kind": record.kind.value,
            "user": record.user,
            "digest": secret_digest,
            "created_at": iso(record.created_at),
            "expires_at": iso(record.expires_at),
            "last_used_at": iso(record.last_used_at),
            "revoked_at": iso(record.revoked_at),
        }
    )


def record_from(credential_id: str, raw: bytes) -> CredentialRecord:
    d = json.loads(raw)
    return CredentialRecord(
        id=credential_id,
        kind=CredentialKind(d["kind"]),
        user=d["user"],
        created_at=datetime.fromisoformat(d["created_at"]),
        expires_at=time_of(d["expires_at"]),
        last_used_at=time_of(d["last_used_at"]),
        revoked_at=time_of(d["revoked_at"]),
    )


def grant_from(
    credential_id: str, record: CredentialRecord, user: User | None, now: datetime
) -> Grant | None:
    """What ``record`` grants at ``now``: nothing when revoked, expired or its user gone."""
    if user is None or record.state(now) != "active":
        return None
    return Grant(credential_id, record.kind, record.user, user.role, record.expires_at)


# Shared by scripts: the credentials of one user (of one kind, or any) as {id, decoded record}.
_PRELUDE = """
local function of_user(name, kind)
  local all = redis.call('HGETALL', KEYS[2])
  local out = {}
  for i = 1, #all, 2 do
    local c = cjson.decode(all[i + 1])
    if c.user == name and (kind == nil or c.kind == kind) then
      out[#out + 1] = {all[i], c}
    end
  end
  return out
end
"""

#: ARGV: user, id, digest, record JSON. 'nouser', 'taken' (the id is; pick another) or 'ok'.
ADD_CREDENTIAL = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'nouser' end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return 'taken' end
if redis.call('HEXISTS', KEYS[3], ARGV[3]) == 1 then
  return redis.error_reply('a credential with this secret is stored already')
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[3], ARGV[2])
return 'ok'
"""

#: ARGV: name, role. The user's new JSON, or false when there is no such user.
SET_ROLE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local user = cjson.decode(raw)
user.role = ARGV[2]
raw = cjson.encode(user)
redis.call('HSET', KEYS[1], ARGV[1], raw)
redis.call('INCR', KEYS[4])
return raw
"""

#: ARGV: name, '1' and the hash or '0' (none), now, the login kind. Revokes the user's live
#: login sessions. 1, or 0 when there is no such user.
SET_PASSWORD = (
    _PRELUDE
    + """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local user = cjson.decode(raw)
if ARGV[2] == '1' then user.password_hash = ARGV[3] else user.password_hash = cjson.null end
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(user))
for _, pair in ipairs(of_user(ARGV[1], ARGV[5])) do
  local c = pair[2]
  if c.revoked_at == cjson.null then
    c.revoked_at = ARGV[4]
    redis.call('HSET', KEYS[2], pair[1], cjson.encode(c))
  end
end
redis.call('INCR', KEYS[4])
return 1
"""
)

#: ARGV: name. Deletes the user and every credential of theirs. 1, or 0 when unknown.
REMOVE_USER = (
    _PRELUDE
    + """
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
for _, pair in ipairs(of_user(ARGV[1], nil)) do
  redis.call('HDEL', KEYS[2], pair[1])
  redis.call('HDEL', KEYS[3], pair[2].digest)
end
redis.call('INCR', KEYS[4])
return 1
"""
)

#: ARGV: id, now. 1 revoked now, 0 revoked already, -1 no such id.
REVOKE = """
local raw = redis.call('HGET', KEYS[2], ARGV[1])
if not raw then return -1 end
local c = cjson.decode(raw)
if c.revoked_at ~= cjson.null then return 0 end
c.revoked_at = ARGV[2]
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(c))
redis.call('INCR', KEYS[4])
return 1
"""

#: ARGV: digest, now. The id revoked, or false (no such credential, or revoked already).
REVOKE_DIGEST = """
local id = redis.call('HGET', KEYS[3], ARGV[1])
if not id then return false end
local raw = redis.call('HGET', KEYS[2], id)
if not raw then return false end
local c = cjson.decode(raw)
if c.revoked_at ~= cjson.null then return false end
c.revoked_at = ARGV[2]
redis.call('HSET', KEYS[2], id, cjson.encode(c))
redis.call('INCR', KEYS[4])
return id
"""

#: ARGV: id, time, id, time, ... Sets each last_used_at, only forward.
TOUCH = """
for i = 1, #ARGV, 2 do
  local raw = redis.call('HGET', KEYS[2], ARGV[i])
  if raw then
    local c = cjson.decode(raw)
    if c.last_used_at == cjson.null or c.last_used_at < ARGV[i + 1] then
      c.last_used_at = ARGV[i + 1]
      redis.call('HSET', KEYS[2], ARGV[i], cjson.encode(c))
    end
  end
end
return 1
"""

#: ARGV: cut, the login kind. Deletes login sessions revoked or expired before cut; how many.
PRUNE = """
local all = redis.call('HGETALL', KEYS[2])
local n = 0
for i = 1, #all, 2 do
  local c = cjson.decode(all[i + 1])
  local r, e = c.revoked_at, c.expires_at
  if c.kind == ARGV[2] and ((r ~= cjson.null and r < ARGV[1])
                            or (e ~= cjson.null and e < ARGV[1])) then
    redis.call('HDEL', KEYS[2], all[i])
    redis.call('HDEL', KEYS[3], c.digest)
    n = n + 1
  end
end
return n
"""

#: ARGV: 'id' or 'digest', the value. {id, credential JSON, user JSON or false}, or false.
LOOK_UP = """
local id = ARGV[2]
if ARGV[1] == 'digest' then
  id = redis.call('HGET', KEYS[3], ARGV[2])
  if not id then return false end
end
local raw = redis.call('HGET', KEYS[2], id)
if not raw then return false end
return {id, raw, redis.call('HGET', KEYS[1], cjson.decode(raw).user)}
"""
