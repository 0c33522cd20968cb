import { BusUnavailableError } from '@repopulse/events-core';
import type { Cluster, Redis } from 'ioredis';
import type { LuaScript } from './lua-script';

/** Scripts each client has run (so EVALSHA finds them). */
const loaded = new WeakMap<object, Set<string>>();

/**
 * Runs the append script and, in the same pipeline (so on the same node, right after it),
 * `WAIT replicas waitMs`: the reply is only handed back once `replicas` replicas have the
 * events too, so a primary that dies right after answering (and is replaced by its replica)
 * cannot take acknowledged events with it.
 *
 * Rejects with `BusUnavailableError` when fewer replicas confirmed within `waitMs`: the events
 * are on the primary and may survive or be lost in a failover, so their publishers are told
 * they may or may not have been stored.
 */
export async function runReplicated(
  client: Redis | Cluster,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
  replicas: number,
  waitMs: number,
): Promise<unknown> {
  const pipeline = (byHash: boolean) => {
    const batch = client.pipeline();
    if (byHash) batch.evalsha(script.sha, keys.length, ...keys, ...args);
    else batch.eval(script.source, keys.length, ...keys, ...args);
    return batch.wait(replicas, waitMs).exec();
  };
  // The first call on a client sends the whole script: a NOSCRIPT answer would only come after
  // the WAIT behind it timed out (when no replica has anything to confirm).
  const cached = loaded.get(client)?.has(script.sha) ?? false;
  let results = await pipeline(cached);
  if (cached && isNoScript(results?.[0]?.[0])) results = await pipeline(false);
  if (!results?.[0]?.[0]) {
    const shas = loaded.get(client) ?? new Set<string>();
    shas.add(script.sha);
    loaded.set(client, shas);
  }
  const [stored, confirmed] = results ?? [];
  if (!stored || stored[0]) throw stored?.[0] ?? new Error('the append pipeline got no reply');
  // WAIT itself failed (e.g. UNBLOCKED: the node became a replica in a failover): the outcome
  // is the caller's to find out (a cluster retry looks the events up on the new primary).
  if (confirmed?.[0]) throw confirmed[0];
  const acks = confirmed ? Number(confirmed[1]) : 0;
  if (acks < replicas) {
    throw new BusUnavailableError(
      `the event is on the primary but ${acks} of ${replicas} replicas confirmed it within ${waitMs} ms (replicaAcks); it may or may not survive a failover`,
    );
  }
  return stored[1];
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}
