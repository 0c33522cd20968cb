import { BusUnavailableError } from '@repopulse/events-core';
import type { Cluster, Redis } from 'ioredis';
import type { LuaScript } from './lua-script';

/**
 * Runs the publish script on the topic's primary and, in the same pipeline (so on the same
 * node, right after it), `WAIT replicas timeout`: the returned position is only handed back
 * once `replicas` replicas have the event too, so a primary that dies right after answering
 * (and is replaced by its replica) cannot take an acknowledged event with it.
 *
 * Rejects with `BusUnavailableError` when fewer replicas confirmed within `waitMs`: the
 * event is on the primary and may survive or be lost in a failover, so the publisher is told
 * it may or may not have been stored.
 */
export async function publishReplicated(
  client: Redis | Cluster,
  script: LuaScript,
  key: string,
  args: (string | number)[],
  replicas: number,
  waitMs: number,
): Promise<unknown> {
  let results = await client
    .pipeline()
    .evalsha(script.sha, 1, key, ...args)
    .wait(replicas, waitMs)
    .exec();
  if (isNoScript(results?.[0]?.[0])) {
    results = await client
      .pipeline()
      .eval(script.source, 1, key, ...args)
      .wait(replicas, waitMs)
      .exec();
  }
  const [stored, confirmed] = results ?? [];
  if (!stored || stored[0]) throw stored?.[0] ?? new Error('the publish pipeline got no reply');
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
