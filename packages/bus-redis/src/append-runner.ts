import type { Cluster, Redis } from 'ioredis';
import { appendArguments, decodeAppendReply } from './append-call';
import { appendOnCluster } from './cluster/cluster-append';
import { SHARDED_APPEND_SCRIPT } from './cluster/sharded-append-script';
import { LuaScript } from './lua-script';
import { APPEND_SCRIPT } from './lua-scripts';
import type { AppendBatchRunner } from './publish-batch';
import { runReplicated } from './replicated-publish';

const appendScript = new LuaScript(APPEND_SCRIPT);
const shardedAppendScript = new LuaScript(SHARDED_APPEND_SCRIPT);

/** How {@link appendRunner} appends. */
export interface AppendRunnerOptions {
  /** Replicas that must confirm each batch (`WAIT`); 0 for none. */
  replicaAcks: number;
  /** The publish bound: `WAIT` may take half of it, cluster retries stop at it. */
  timeoutMs: number;
}

/**
 * How one batch is appended on `client`: on one Redis the `PUBLISH` append script, followed by
 * `WAIT` when replicas must confirm; on a Redis Cluster the `SPUBLISH` script on the batch's
 * primary, retried through failovers and slot moves without appending anything twice (see
 * {@link appendOnCluster}).
 */
export function appendRunner(client: Redis | Cluster, options: AppendRunnerOptions): AppendBatchRunner {
  const { replicaAcks, timeoutMs } = options;
  const waitMs = Math.max(1, Math.floor(timeoutMs / 2));
  if (client.isCluster) {
    const cluster = client as Cluster;
    return (batch) =>
      appendOnCluster(cluster, shardedAppendScript, batch, {
        replicaAcks,
        waitMs,
        deadline: Date.now() + timeoutMs,
      });
  }
  if (replicaAcks > 0) {
    return (batch) =>
      runReplicated(client, appendScript, batch.keys, appendArguments(batch), replicaAcks, waitMs).then(
        decodeAppendReply,
      );
  }
  return (batch) => appendScript.run(client, batch.keys, appendArguments(batch)).then(decodeAppendReply);
}
