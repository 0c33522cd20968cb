import { PUBLISH_SCRIPT } from '../lua-scripts';

const PUBLISH_CALL = "redis.call('PUBLISH', ";

/**
 * Runs first when ARGV[6] is `1` (a retry after an attempt whose outcome is unknown, e.g. the
 * connection closed while a failover happened): when the event id is among the stream's last
 * 1000 entries, the first attempt was stored (and announced), so its position is returned and
 * nothing is appended twice.
 */
const RETRY_GUARD = `
if ARGV[6] == '1' then
  local recent = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1000)
  for _, entry in ipairs(recent) do
    local fields = entry[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'i' and fields[i + 1] == ARGV[4] then return entry[1] end
    end
  end
end
`;

/**
 * The publish script for a Redis Cluster: the same `XADD MAXLEN ~` + age trim, announced with
 * `SPUBLISH` (sharded Pub/Sub) instead of `PUBLISH`, and safe to retry (see `RETRY_GUARD`). The
 * channel is the stream key itself, so it hashes to the key's slot and the whole script runs
 * on the one node that owns the topic: nothing is broadcast over the cluster bus.
 *
 * Arguments as the single-node script, plus ARGV[6]: `1` on a retry, else `0`.
 */
export const SHARDED_PUBLISH_SCRIPT: string = (() => {
  if (!PUBLISH_SCRIPT.includes(PUBLISH_CALL))
    throw new Error('[repopulse] publish script has no PUBLISH call');
  return RETRY_GUARD + PUBLISH_SCRIPT.replace(PUBLISH_CALL, "redis.call('SPUBLISH', ");
})();
