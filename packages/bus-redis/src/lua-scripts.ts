/**
 * Lua run inside Redis. Both scripts touch one key (the topic's stream), so they work on a
 * Redis Cluster: the key is hash-tagged per topic (see `topicKey`).
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
 * Appends a batch of events and announces them, atomically: per event `XADD MAXLEN ~` (through
 * `pcall`, so one refused event does not fail the others), then per topic the age trim and one
 * `PUBLISH` of the topic's new events as lines `<position> <envelope JSON>` joined by `\n`
 * (envelope JSON never holds a raw newline). Because storing and announcing happen in one script,
 * a subscriber that reads the stream after its channel subscription is active misses nothing.
 *
 * KEYS: the batch's topic streams (each also its channel) · ARGV[1] MAXLEN · ARGV[2] TTL ms
 * (0 = none) · then per event: index into KEYS, event id, envelope JSON. Returns one entry per
 * event: its position, or `!<error>` when Redis refused it (nothing stored or announced for it).
 */
export const APPEND_SCRIPT = `${TRIM_BY_AGE}
local maxlen, ttl = ARGV[1], tonumber(ARGV[2])
local out, lines = {}, {}
for a = 3, #ARGV, 3 do
  local k = tonumber(ARGV[a])
  local id = redis.pcall('XADD', KEYS[k], 'MAXLEN', '~', maxlen, '*', 'i', ARGV[a + 1], 'e', ARGV[a + 2])
  if type(id) == 'table' then
    out[#out + 1] = '!' .. tostring(id.err)
  else
    out[#out + 1] = id
    local topic = lines[k]
    if not topic then topic = {}; lines[k] = topic end
    topic[#topic + 1] = id .. ' ' .. ARGV[a + 2]
  end
end
for k, topic in pairs(lines) do
  trim_by_age(KEYS[k], ttl)
  redis.call('PUBLISH', KEYS[k], table.concat(topic, '\\n'))
end
return out
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
