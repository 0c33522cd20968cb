import { APPEND_SCRIPT, DROP_SCRIPT } from '../lua-scripts';

const PUBLISH_CALL = "redis.call('PUBLISH', ";

/** `script` announcing with `SPUBLISH` (sharded Pub/Sub) instead of `PUBLISH`. */
function sharded(script: string, name: string): string {
  if (!script.includes(PUBLISH_CALL)) throw new Error(`[repopulse] ${name} script has no PUBLISH call`);
  return script.replaceAll(PUBLISH_CALL, "redis.call('SPUBLISH', ");
}

/**
 * The append script for a Redis Cluster: the same batch of `XADD MAXLEN ~` + age trim, announced
 * with `SPUBLISH` (sharded Pub/Sub) instead of `PUBLISH`. Each channel is its stream's key, and a
 * batch holds keys of one slot only, so the whole script runs on the one node that owns them and
 * nothing is broadcast over the cluster bus.
 */
export const SHARDED_APPEND_SCRIPT: string = sharded(APPEND_SCRIPT, 'append');

/** The drop script for a Redis Cluster: announced with `SPUBLISH` on the topic's shard. */
export const SHARDED_DROP_SCRIPT: string = sharded(DROP_SCRIPT, 'drop');
