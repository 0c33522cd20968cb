import { createMemoryBus } from '@repopulse/bus-memory';
import { createRedisBus } from '@repopulse/bus-redis';
import type { EventBus } from '@repopulse/events-core';

/**
 * One process: the in-memory bus. Several processes (or a restart-proof history): set `REDIS_URL`
 * and every instance shares the topics through Redis.
 */
export async function createBus(redisUrl = process.env.REDIS_URL): Promise<EventBus> {
  if (redisUrl === undefined) return createMemoryBus();
  let host: string;
  try {
    const url = new URL(redisUrl);
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new Error(url.protocol);
    host = url.host;
  } catch {
    throw new Error(`REDIS_URL must be a redis:// or rediss:// URL, got ${JSON.stringify(redisUrl)}`);
  }
  const bus = createRedisBus({ url: redisUrl });
  try {
    await bus.head('repos'); // fail now, not at the first publish
  } catch (error) {
    await bus.close();
    throw new Error(`cannot reach Redis at REDIS_URL (${host}): ${(error as Error).message}`);
  }
  return bus;
}
