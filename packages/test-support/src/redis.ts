import { spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';

/** The shared test Redis when `REDIS_URL` is not set. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** The shared test Redis URL: `REDIS_URL`, else {@link DEFAULT_REDIS_URL}. */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? DEFAULT_REDIS_URL;
}

/** True when a `redis-server` binary is on PATH (for tests that spawn their own server). */
export function hasRedisServer(): boolean {
  return spawnSync('redis-server', ['--version']).status === 0;
}

/**
 * Connects to `target` (a URL or a port on 127.0.0.1) without retries (1 s connect timeout), runs
 * `use` with the client and disconnects; rejects when Redis cannot be reached.
 *
 * @example
 * const info = await withRedis(port, (redis) => redis.call('CLUSTER', 'INFO'));
 */
export async function withRedis<T>(target: string | number, use: (redis: Redis) => Promise<T>): Promise<T> {
  const options = {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  };
  const redis =
    typeof target === 'number' ? new Redis(target, '127.0.0.1', options) : new Redis(target, options);
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await use(redis);
  } finally {
    redis.disconnect();
  }
}

/** The shared test Redis ({@link redisUrl}) if it answers PING within a second, else undefined. */
export async function reachableRedis(url: string = redisUrl()): Promise<string | undefined> {
  try {
    return (await withRedis(url, (redis) => redis.ping())) === 'PONG' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** Deletes every key under each of `prefixes` at `url` (test cleanup). */
export async function deleteKeys(url: string, ...prefixes: string[]): Promise<void> {
  if (prefixes.length === 0) return;
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
