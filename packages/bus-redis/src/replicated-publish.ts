import { BusUnavailableError } from '@repopulse/events-core';
import type { Cluster, Redis } from 'ioredis';
import type { LuaScript } from './lua-script';

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
  args: readonly (string | number)[],
  replicas: number,
  waitMs: number,
): Promise<unknown> {
  let results = await client
    .pipeline()
    .evalsha(script.sha, keys.length, ...keys, ...args)
    .wait(replicas, waitMs)
    .exec();
  if (isNoScript(results?.[0]?.[0])) {
    results = await client
      .pipeline()
      .eval(script.source, keys.length, ...keys, ...args)
      .wait(replicas, waitMs)
      .exec();
  }
  const [stored, confirmed] = results ?? [];
  if (!stored || stored[0]) throw stored?.[0] ?? new Error('the append pipeline got no reply');
  const acks = confirmed && !confirmed[0] ? Number(confirmed[1]) : 0;
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
