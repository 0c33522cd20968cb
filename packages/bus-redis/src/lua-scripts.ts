/**
 * Lua run inside Redis. Each script touches the keys of one topic only (its stream, and for the
 * append and drop scripts the stream's id keys, see `idKeysOf`), all hash-tagged per topic (see
 * `topicKey`), so they work on a Redis Cluster.
 */

/**
 * Current server time minus `ttl` as a `MINID` argument, and the `XTRIM` that drops entries
 * older than it (exact, so no stale entry survives inside a half-expired node).
 */
const TRIM_BY_AGE = `
local function trim_by_age(key, ttl)
  if ttl <= 0 then return end
  local t = redis.call('TIME')
  local floor = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - ttl
  if floor > 0 then redis.call('XTRIM', key, 'MINID', string.format('%.0f', floor)) end
end
`;

/**
 * Forgets the ids of trimmed entries. The id list mirrors the newest entries of the stream (one id
 * pushed per `XADD`, and trimming only ever removes the oldest entries), so when it is longer than
 * the stream its extra head holds exactly the trimmed ids: popped and deleted from the hash, in
 * chunks (Lua's `unpack` has a stack limit). Amortized O(1) per appended event.
 */
const FORGET_TRIMMED = `
local function forget_trimmed(key, ids, idlog)
  local extra = redis.call('LLEN', idlog) - redis.call('XLEN', key)
  while extra > 0 do
    local gone = redis.call('LPOP', idlog, math.min(extra, 512))
    redis.call('HDEL', ids, unpack(gone))
    extra = extra - #gone
  end
end
`;

/**
 * Appends a batch of events and announces them, atomically. Per topic first the age trim, then one
 * `HMGET` of the ids of its events in this batch (instead of an `HGET` per event); then per event
 * the idempotence check — an id the stream still retains (its hash has it, or an earlier event of
 * this batch stored it) is answered with the stored entry and neither stored nor announced
 * again — else `XADD MAXLEN ~` (through `pcall`, so one refused event does not fail the
 * others); then per topic the new ids are recorded (one `HSET` and one `RPUSH` for the batch), the
 * ids of entries the trims removed forgotten, and one `PUBLISH` of its new events as lines
 * `<position> <envelope JSON>` joined by `\n` (envelope JSON never holds a raw newline). Because
 * storing and announcing happen in one script, a subscriber that reads the stream after its
 * channel subscription is active misses nothing, and two appends of one id never both store it.
 *
 * KEYS: per topic of the batch its stream (also its channel), then its id hash and id list (see
 * `idKeysOf`) · ARGV[1] MAXLEN · ARGV[2] TTL ms (0 = none) · ARGV[3] the events as one text, three
 * lines per event (see `appendArguments`): the index into KEYS of its stream, the event id, the
 * envelope JSON (neither an id nor envelope JSON holds a raw newline). One argument instead of
 * three per event: the client builds and sends one string, and Redis parses one argument.
 *
 * Returns `{lines, json…}`: `lines` holds one line per event, joined by `\n`: its position;
 * `=<position>` when its id was already retained, whose stored envelope JSON is the next of the
 * `json…` that follow; or `!<error>` when Redis refused it (nothing stored or announced for it).
 * One reply string for the batch instead of one per event (see `decodeAppendReply`).
 */
export const APPEND_SCRIPT = `${TRIM_BY_AGE}${FORGET_TRIMMED}
local maxlen, ttl, events = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local out, stored, refused, added, retained, batch_ids = {}, {}, {}, {}, {}, {}
local function prepare(key, ids, idlog)
  trim_by_age(key, ttl)
  forget_trimmed(key, ids, idlog)
end
local function stored_json(key, position)
  local entry = redis.call('XRANGE', key, position, position)[1]
  if not entry then return nil end
  local fields = entry[2]
  for f = 1, #fields, 2 do
    if fields[f] == 'e' then return fields[f + 1] end
  end
  return nil
end
local function retained_ids(ids, batch)
  local found, known = redis.call('HMGET', ids, unpack(batch)), {}
  for i = 1, #batch do
    if found[i] then known[batch[i]] = found[i] end
  end
  return known
end
local function refusal(err)
  return (string.gsub('!' .. err, '\\n', ' '))
end
local function append(k, id, json)
  local key = KEYS[k]
  if refused[k] == nil then
    -- A key Redis refuses (e.g. not a stream) fails its own events only.
    local ok, err = pcall(prepare, key, KEYS[k + 1], KEYS[k + 2])
    refused[k] = (not ok) and (type(err) == 'table' and tostring(err.err) or tostring(err)) or false
    if ok then retained[k] = retained_ids(KEYS[k + 1], batch_ids[k]) end
  end
  if refused[k] then return refusal(refused[k]) end
  local topic = added[k]
  local known = topic and topic.byid[id] or retained[k][id]
  if known then
    local json_stored = stored_json(key, known)
    if json_stored then
      stored[#stored + 1] = json_stored
      return '=' .. known
    end
  end
  local position = redis.pcall('XADD', key, 'MAXLEN', '~', maxlen, '*', 'i', id, 'e', json)
  if type(position) == 'table' then return refusal(tostring(position.err)) end
  if not topic then
    topic = {byid = {}, pairs = {}, ids = {}, lines = {}}
    added[k] = topic
  end
  topic.byid[id] = position
  local n = #topic.ids
  topic.ids[n + 1] = id
  topic.pairs[2 * n + 1] = id
  topic.pairs[2 * n + 2] = position
  local lines = topic.lines
  if n > 0 then lines[#lines + 1] = '\\n' end
  lines[#lines + 1] = position
  lines[#lines + 1] = ' '
  lines[#lines + 1] = json
  return position
end
local find, sub, byte = string.find, string.sub, string.byte
-- The KEYS index written in decimal from byte from to byte to, read without making a string of it.
local function index_at(from, to)
  local k = 0
  for i = from, to do k = k * 10 + byte(events, i) - 48 end
  return k
end
local ks, ids, jsons, count = {}, {}, {}, 0
local at, size = 1, #events
while at <= size do
  local id_at = find(events, '\\n', at, true)
  local json_at = find(events, '\\n', id_at + 1, true)
  local next_at = find(events, '\\n', json_at + 1, true) or size + 1
  count = count + 1
  local k, id = index_at(at, id_at - 1), sub(events, id_at + 1, json_at - 1)
  ks[count], ids[count], jsons[count] = k, id, sub(events, json_at + 1, next_at - 1)
  local list = batch_ids[k]
  if not list then
    list = {}
    batch_ids[k] = list
  end
  list[#list + 1] = id
  at = next_at + 1
end
for i = 1, count do
  out[i] = append(ks[i], ids[i], jsons[i])
end
for k, topic in pairs(added) do
  redis.call('HSET', KEYS[k + 1], unpack(topic.pairs))
  redis.call('RPUSH', KEYS[k + 2], unpack(topic.ids))
  forget_trimmed(KEYS[k], KEYS[k + 1], KEYS[k + 2])
  redis.call('PUBLISH', KEYS[k], table.concat(topic.lines))
end
return {table.concat(out, '\\n'), unpack(stored)}
`;

/** The text of the announcement line of a drop: `<head> dropped` (an envelope line has JSON there). */
export const DROPPED_MARK = 'dropped';

/**
 * Drops a topic's history, atomically: the drop takes a position of its own (an entry added and
 * trimmed away at once, so the stream stays, empty, with that position as its last id: later
 * entries get greater ids, and the read script sees every earlier position as trimmed away), the
 * id hash and list are deleted, and subscribers are told with a line `<position> dropped`.
 *
 * KEYS[1] stream (also its channel) · KEYS[2] id hash · KEYS[3] id list. Returns the position.
 */
export const DROP_SCRIPT = `
local id = redis.call('XADD', KEYS[1], '*', 'd', '1')
redis.call('XTRIM', KEYS[1], 'MAXLEN', 0)
redis.call('DEL', KEYS[2], KEYS[3])
redis.call('PUBLISH', KEYS[1], id .. ' ${DROPPED_MARK}')
return id
`;

/**
 * Reads one page after a cursor together with everything needed to judge the cursor, in one
 * consistent snapshot. Applies the age trim first, so expired entries are never replayed.
 *
 * KEYS[1] stream · ARGV[1] cursor (a well-formed position) · ARGV[2] page size (0 = none) ·
 * ARGV[3] TTL ms (0 = none).
 * Returns `{0}` when the stream does not exist, else
 * `{1, last-generated-id, entries-added (-1 before Redis 7), length, first id or '',
 *   cursor found (0/1), entries}`. The entries are those after the cursor whether or not it is
 * held (`XRANGE (cursor`), so a cursor equal to the range's floor (see `parseSnapshot`) reads the
 * retained tail.
 */
export const READ_SCRIPT = `${TRIM_BY_AGE}
local key = KEYS[1]
local cursor = ARGV[1]
if redis.call('EXISTS', key) == 0 then return {0} end
trim_by_age(key, tonumber(ARGV[3]))
local info = redis.call('XINFO', 'STREAM', key)
local last, added, len = '0-0', -1, 0
for i = 1, #info, 2 do
  local name = info[i]
  if name == 'last-generated-id' then last = info[i + 1]
  elseif name == 'entries-added' then added = info[i + 1]
  elseif name == 'length' then len = info[i + 1] end
end
local first = ''
local oldest = redis.call('XRANGE', key, '-', '+', 'COUNT', 1)
if oldest[1] then first = oldest[1][1] end
local found = 0
if cursor ~= '0-0' and #redis.call('XRANGE', key, cursor, cursor) > 0 then found = 1 end
local entries = {}
local count = tonumber(ARGV[2])
if count > 0 then entries = redis.call('XRANGE', key, '(' .. cursor, '+', 'COUNT', count) end
return {1, last, added, len, first, found, entries}
`;
