import type { Cluster } from 'ioredis';
import type { LuaScript } from '../lua-script';
import { publishReplicated } from '../replicated-publish';

/** Errors after which the shard may answer again soon: a failover, a slot move, a node restarting. */
const TRANSIENT = [
  'MOVED',
  'ASK',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'LOADING',
  'READONLY',
  'Connection is closed',
  'Too many Cluster redirections',
  'Failed to refresh slots cache',
  'connect ECONNREFUSED',
  'ERR WAIT cannot be used with replica instances',
];

/** What {@link publishOnCluster} needs besides the script arguments. */
export interface ClusterPublishOptions {
  /** Replicas that must confirm (0: no `WAIT`). */
  replicaAcks: number;
  /** Time `WAIT` may take. */
  waitMs: number;
  /** Retries stop at this time (ms since epoch); the publish queue's bound rejects soon after. */
  deadline: number;
}

/**
 * Runs the sharded publish script on the topic's primary, retrying while the shard is in a
 * failover, a migration or a restart (until `deadline`), with the script's retry guard on, so an
 * attempt that was stored before its connection dropped is not appended a second time.
 */
export async function publishOnCluster(
  cluster: Cluster,
  script: LuaScript,
  key: string,
  args: (string | number)[],
  options: ClusterPublishOptions,
): Promise<unknown> {
  for (let attempt = 0; ; attempt++) {
    const withFlag = [...args, attempt > 0 ? 1 : 0];
    try {
      return options.replicaAcks > 0
        ? await publishReplicated(cluster, script, key, withFlag, options.replicaAcks, options.waitMs)
        : await script.run(cluster, key, withFlag);
    } catch (error) {
      const delay = Math.min(50 * 2 ** attempt, 500);
      if (!isTransient(error) || Date.now() + delay >= options.deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
    }
  }
}

function isTransient(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return TRANSIENT.some((start) => message.startsWith(start));
}
