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
 * Appends one event and announces it, atomically: `XADD MAXLEN ~`, age trim, then `PUBLISH`
 * of `<position> <envelope JSON>` on the topic channel. Because both happen in one script, a
 * subscriber that reads the stream after its channel subscription is active misses nothing.
 *
 * KEYS[1] stream · ARGV[1] channel · ARGV[2] MAXLEN · ARGV[3] TTL ms (0 = none) ·
 * ARGV[4] event id · ARGV[5] envelope JSON. Returns the new position.
 */
export const PUBLISH_SCRIPT = `${TRIM_BY_AGE}
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'i', ARGV[4], 'e', ARGV[5])
trim_by_age(KEYS[1], tonumber(ARGV[3]))
redis.call('PUBLISH', ARGV[1], id .. ' ' .. ARGV[5])
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
 *   cursor found (0/1), entries}`.
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
