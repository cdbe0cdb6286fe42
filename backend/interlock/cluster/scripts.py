"""The Lua scripts of ``Coordinator``: admitting and claiming a task in one round trip each.

They apply the rules of ``interlock.admission`` (``tests/cluster/test_coordinator.py`` holds
them to the same cases): two tasks collide when their resources overlap, a resource covering
the ones under it (``axis`` covers ``axis:x``); a task needing something a queued one needs
waits behind it. Every script bumps ``version`` (what ``Coordinator.reap``'s transaction
watches). KEYS, in this order, for both::

    info slots holders admitted queue ready order version workers leases unready
"""

from __future__ import annotations

#: Lua helpers shared by the scripts.
_COMMON = """
local K_INFO, K_SLOTS, K_HOLDERS, K_ADMITTED, K_QUEUE, K_READY, K_ORDER, K_VERSION,
      K_WORKERS, K_LEASES, K_UNREADY = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6],
      KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]

local function covered(list)
  local out = {}
  for _, r in ipairs(list) do
    local acc = nil
    for part in string.gmatch(r, '[^:]+') do
      if acc then acc = acc .. ':' .. part else acc = part end
      out[acc] = true
    end
    out[r] = true
  end
  return out
end

local function overlap(a, b)
  if #a == 0 or #b == 0 then return false end
  local cb = covered(b)
  for _, r in ipairs(a) do if cb[r] then return true end end
  local ca = covered(a)
  for _, r in ipairs(b) do if ca[r] then return true end end
  return false
end

local function needs_controller(list)
  for _, r in ipairs(list) do
    if r == 'controller' or r == 'axis' or string.sub(r, 1, 5) == 'axis:' then return true end
  end
  return false
end

local function forget(tid)
  redis.call('HDEL', K_INFO, tid)
  redis.call('HDEL', K_SLOTS, tid)
  redis.call('HDEL', K_HOLDERS, tid)
  redis.call('ZREM', K_ADMITTED, tid)
  redis.call('ZREM', K_QUEUE, tid)
  redis.call('SREM', K_READY, tid)
  redis.call('ZREM', K_UNREADY, tid)
end

local function runs(types, has_controller, task_type, resources)
  if #types > 0 then
    local found = false
    for _, t in ipairs(types) do if t == task_type then found = true end end
    if not found then return false end
  end
  return has_controller or not needs_controller(resources)
end
"""

#: ARGV: task id, task type, info JSON, resources JSON (an array), queue ("1"/"0"),
#: max_concurrent, max_queued. Returns {"ok", waits, runnable, workers alive},
#: {"capacity", holder id} or {"full"}.
ADMIT = (
    _COMMON
    + """
local tid, task_type, info, resources_json = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local queue, max_concurrent, max_queued = ARGV[5] == '1', tonumber(ARGV[6]), tonumber(ARGV[7])
local needs = cjson.decode(resources_json)

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local alive = redis.call('ZRANGEBYSCORE', K_LEASES, now, '+inf')
local runnable = false
if #alive > 0 then
  for _, raw in ipairs(redis.call('HMGET', K_WORKERS, unpack(alive))) do
    if raw then
      local w = cjson.decode(raw)
      local ctl = w.controller ~= nil and w.controller ~= cjson.null
      if runs(w.task_types or {}, ctl, task_type, needs) then runnable = true end
    end
  end
end

local blocker = nil
if #needs > 0 then
  local h = redis.call('HGETALL', K_HOLDERS)
  for i = 1, #h, 2 do
    if overlap(needs, cjson.decode(h[i + 1])) then blocker = h[i]; break end
  end
end
if not blocker and redis.call('HLEN', K_SLOTS) >= max_concurrent then
  blocker = redis.call('HRANDFIELD', K_SLOTS) or ''
end
local queued = redis.call('ZCARD', K_QUEUE)
local ahead = false
if #needs > 0 and queued > 0 then
  local ids = redis.call('ZRANGE', K_QUEUE, 0, -1)
  local infos = redis.call('HMGET', K_INFO, unpack(ids))
  for _, raw in ipairs(infos) do
    if raw and overlap(needs, cjson.decode(raw).resources) then ahead = true; break end
  end
end

if blocker and not queue and runnable then return {'capacity', blocker} end
local waits = blocker ~= nil or ahead or not runnable
if waits and queued >= max_queued then return {'full'} end
local order = redis.call('INCR', K_ORDER)
redis.call('HSET', K_INFO, tid, info)
redis.call('ZADD', K_UNREADY, now, tid)
if waits then
  redis.call('ZADD', K_QUEUE, order, tid)
else
  redis.call('HSET', K_SLOTS, tid, '')
  if #needs > 0 then redis.call('HSET', K_HOLDERS, tid, resources_json) end
  redis.call('ZADD', K_ADMITTED, order, tid)
end
redis.call('INCR', K_VERSION)
return {'ok', waits and 1 or 0, runnable and 1 or 0, #alive}
"""
)

#: ARGV: worker id, its task types (a JSON array, empty: every type), "1" if it owns a
#: controller, max_concurrent, how many waiting tasks to look at. Returns the task id it
#: takes, or false.
CLAIM = (
    _COMMON
    + """
local wid, types = ARGV[1], cjson.decode(ARGV[2])
local has_controller, max_concurrent, window = ARGV[3] == '1', tonumber(ARGV[4]), tonumber(ARGV[5])

local function take(tid)
  redis.call('HSET', K_SLOTS, tid, wid)
  redis.call('SREM', K_READY, tid)
  redis.call('INCR', K_VERSION)
  return tid
end

local admitted = redis.call('ZRANGE', K_ADMITTED, 0, window - 1)
for _, tid in ipairs(admitted) do
  if redis.call('SISMEMBER', K_READY, tid) == 1 then
    local raw = redis.call('HGET', K_INFO, tid)
    if raw then
      local info = cjson.decode(raw)
      if runs(types, has_controller, info.type, info.resources) then
        redis.call('ZREM', K_ADMITTED, tid)
        return take(tid)
      end
    end
  end
end

local queued = redis.call('ZRANGE', K_QUEUE, 0, window - 1)
if #queued == 0 or redis.call('HLEN', K_SLOTS) >= max_concurrent then return false end
local holders = {}
local h = redis.call('HGETALL', K_HOLDERS)
for i = 2, #h, 2 do holders[#holders + 1] = cjson.decode(h[i]) end
local reserved = {}
for _, tid in ipairs(queued) do
  local raw = redis.call('HGET', K_INFO, tid)
  if raw and redis.call('SISMEMBER', K_READY, tid) == 1 then
    local info = cjson.decode(raw)
    local needs = info.resources
    -- Not stored yet, or another worker's: it keeps its place and blocks nobody here.
    if runs(types, has_controller, info.type, needs) then
      local free = not overlap(reserved, needs)
      if free then
        for _, held in ipairs(holders) do
          if overlap(needs, held) then free = false; break end
        end
      end
      if free then
        redis.call('ZREM', K_QUEUE, tid)
        if #needs > 0 then redis.call('HSET', K_HOLDERS, tid, cjson.encode(needs)) end
        return take(tid)
      end
      for _, r in ipairs(needs) do reserved[#reserved + 1] = r end
    end
  end
end
return false
"""
)

#: ARGV: task ids. Forgets each (its slot, resources and place) and wakes the workers.
RELEASE = (
    _COMMON
    + """
for _, tid in ipairs(ARGV) do forget(tid) end
redis.call('INCR', K_VERSION)
return #ARGV
"""
)

#: ARGV: task id. Forgets it if no worker took it yet; returns 1 then, else 0.
WITHDRAW = (
    _COMMON
    + """
local tid = ARGV[1]
if not redis.call('ZSCORE', K_QUEUE, tid) and not redis.call('ZSCORE', K_ADMITTED, tid) then
  return 0
end
forget(tid)
redis.call('INCR', K_VERSION)
return 1
"""
)

#: ARGV: task id, worker id. A task that worker claimed but could not start goes back to
#: the head of the admitted ones (it keeps its slot and resources), ready. Returns 1, or 0
#: when the task is not that worker's.
UNCLAIM = (
    _COMMON
    + """
local tid, wid = ARGV[1], ARGV[2]
if redis.call('HGET', K_SLOTS, tid) ~= wid then return 0 end
redis.call('HSET', K_SLOTS, tid, '')
redis.call('ZADD', K_ADMITTED, 0, tid)
redis.call('SADD', K_READY, tid)
redis.call('INCR', K_VERSION)
return 1
"""
)
