import { computeBackoff } from '@repopulse/events-core/bus-kit';
import type { Cluster } from 'ioredis';
import { type AppendBatch, appendArguments, decodeAppendReply } from '../append-call';
import type { LuaScript } from '../lua-script';
import { runReplicated } from '../replicated-publish';

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
  // A WAIT cut short because its node turned into a replica (a failover): the retry finds the
  // events on the new primary, which has them as the old one replicated to it.
  'UNBLOCKED',
];

/** Entries a retry looks back through for events an earlier attempt may have stored. */
export const RETRY_LOOKBACK = 1000;

/** What {@link appendOnCluster} needs besides the batch. */
export interface ClusterAppendOptions {
  /** Replicas that must confirm (0: no `WAIT`). */
  replicaAcks: number;
  /** Time `WAIT` may take. */
  waitMs: number;
  /** Retries stop at this time (ms since epoch); the publish queue's bound rejects soon after. */
  deadline: number;
}

/**
 * Runs the sharded append script for one batch (keys of one slot) on its primary, and retries
 * while the shard is in a failover, a migration or a restart, until `deadline`. Before a retry
 * it looks the batch's event ids up in the last {@link RETRY_LOOKBACK} entries of their streams:
 * an attempt that Redis ran before its connection dropped is not appended a second time, its
 * events resolve with the positions they got. Resolves with one reply entry per event, in batch
 * order, as `decodeAppendReply` gives them.
 */
export async function appendOnCluster(
  cluster: Cluster,
  script: LuaScript,
  batch: AppendBatch,
  options: ClusterAppendOptions,
): Promise<unknown[]> {
  const { keys } = batch;
  const results: unknown[] = new Array(batch.items.length);
  let pending: number[] | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      if (attempt > 0) pending = await skipStored(cluster, batch, pending, results);
      if (pending?.length === 0) return results;
      const args = appendArguments(batch, pending);
      const reply =
        options.replicaAcks > 0
          ? await runReplicated(cluster, script, keys, args, options.replicaAcks, options.waitMs)
          : await script.run(cluster, keys, args);
      const replies = decodeAppendReply(reply);
      if (pending === undefined) return replies;
      pending.forEach((eventIndex, i) => {
        results[eventIndex] = replies[i];
      });
      return results;
    } catch (error) {
      const delay = computeBackoff(attempt, { initialMs: 50, maxMs: 500, jitter: 0.5 });
      if (!isTransient(error) || Date.now() + delay >= options.deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
      await new Promise<void>((resolve) => cluster.refreshSlotsCache(() => resolve()));
    }
  }
}

/**
 * Fills `results` for pending events (all of the batch's when `pending` is undefined) already in
 * their stream; returns the ones still to append.
 */
async function skipStored(
  cluster: Cluster,
  batch: AppendBatch,
  pending: number[] | undefined,
  results: unknown[],
): Promise<number[]> {
  const { keys, streams, items } = batch;
  const indices = pending ?? items.map((_, i) => i);
  const wanted = new Set(indices.map((i) => streams[i]!));
  const stored = new Map<string, string>();
  for (const k of wanted) {
    const recent = await cluster.xrevrange(keys[k - 1]!, '+', '-', 'COUNT', RETRY_LOOKBACK);
    for (const [position, fields] of recent) {
      const at = fields.indexOf('i');
      if (at >= 0) stored.set(fields[at + 1]!, position);
    }
  }
  return indices.filter((i) => {
    const position = stored.get(items[i]!.id);
    if (position === undefined) return true;
    results[i] = position;
    return false;
  });
}

function isTransient(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return TRANSIENT.some((start) => message.startsWith(start));
}
