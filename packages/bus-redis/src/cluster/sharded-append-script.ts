import { APPEND_SCRIPT } from '../lua-scripts';

const PUBLISH_CALL = "redis.call('PUBLISH', ";

/**
 * The append script for a Redis Cluster: the same batch of `XADD MAXLEN ~` + age trim, announced
 * with `SPUBLISH` (sharded Pub/Sub) instead of `PUBLISH`. Each channel is its stream's key, and a
 * batch holds keys of one slot only, so the whole script runs on the one node that owns them and
 * nothing is broadcast over the cluster bus.
 */
export const SHARDED_APPEND_SCRIPT: string = (() => {
  if (!APPEND_SCRIPT.includes(PUBLISH_CALL)) throw new Error('[repopulse] append script has no PUBLISH call');
  return APPEND_SCRIPT.replace(PUBLISH_CALL, "redis.call('SPUBLISH', ");
})();
