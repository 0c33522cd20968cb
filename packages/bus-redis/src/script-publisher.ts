import type { Cluster, Redis } from 'ioredis';
import { publishOnCluster } from './cluster/cluster-publish';
import { SHARDED_PUBLISH_SCRIPT } from './cluster/sharded-publish-script';
import { LuaScript } from './lua-script';
import { PUBLISH_SCRIPT } from './lua-scripts';
import { publishReplicated } from './replicated-publish';

const publishScript = new LuaScript(PUBLISH_SCRIPT);
const shardedPublishScript = new LuaScript(SHARDED_PUBLISH_SCRIPT);

/** Runs the publish script for one event: KEYS[1] the stream, the script's ARGV; resolves with the position. */
export type ScriptPublisher = (key: string, args: (string | number)[]) => Promise<unknown>;

/** How {@link scriptPublisher} publishes. */
export interface ScriptPublisherOptions {
  /** Replicas that must confirm each publish (`WAIT`); 0 for none. */
  replicaAcks: number;
  /** The publish bound: `WAIT` may take half of it, cluster retries stop at it. */
  timeoutMs: number;
}

/**
 * The publish call for `client`: on one Redis the `PUBLISH` script (auto-pipelined), followed
 * by `WAIT` when replicas must confirm; on a Redis Cluster the `SPUBLISH` script on the topic's
 * primary, retried through failovers and slot moves (see `publishOnCluster`).
 */
export function scriptPublisher(client: Redis | Cluster, options: ScriptPublisherOptions): ScriptPublisher {
  const { replicaAcks, timeoutMs } = options;
  const waitMs = Math.max(1, Math.floor(timeoutMs / 2));
  if (client.isCluster) {
    const cluster = client as Cluster;
    return (key, args) =>
      publishOnCluster(cluster, shardedPublishScript, key, args, {
        replicaAcks,
        waitMs,
        deadline: Date.now() + timeoutMs,
      });
  }
  if (replicaAcks > 0)
    return (key, args) => publishReplicated(client, publishScript, key, args, replicaAcks, waitMs);
  return (key, args) => publishScript.run(client, key, args);
}
