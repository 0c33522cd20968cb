import { PUBLISH_SCRIPT } from '../lua-scripts';

const PUBLISH_CALL = "redis.call('PUBLISH', ";

/**
 * The publish script for a Redis Cluster: the same `XADD MAXLEN ~` + age trim, announced with
 * `SPUBLISH` (sharded Pub/Sub) instead of `PUBLISH`. The channel is the stream key itself, so
 * it hashes to the key's slot and the whole script runs on the one node that owns the topic:
 * nothing is broadcast over the cluster bus.
 */
export const SHARDED_PUBLISH_SCRIPT: string = (() => {
  if (!PUBLISH_SCRIPT.includes(PUBLISH_CALL)) throw new Error('[repopulse] publish script has no PUBLISH call');
  return PUBLISH_SCRIPT.replace(PUBLISH_CALL, "redis.call('SPUBLISH', ");
})();
