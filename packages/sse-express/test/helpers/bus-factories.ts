import { connect } from 'node:net';
import { createMemoryBus } from '@repopulse/bus-memory';
import type { BusOptions, EventBus } from '@repopulse/events-core';
import { Redis } from 'ioredis';

/** Makes a fresh bus for one test; `cleanup` closes it and removes what it stored. */
export interface BusFactory {
  /** Shown in test names. */
  name: string;
  /** A fresh, isolated bus. */
  create(options?: BusOptions): Promise<EventBus>;
  /** Closes every bus this factory made and deletes their data. */
  cleanup(): Promise<void>;
}

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

function memoryFactory(): BusFactory {
  const buses: EventBus[] = [];
  return {
    name: 'memory',
    async create(options) {
      const bus = createMemoryBus(options);
      buses.push(bus);
      return bus;
    },
    async cleanup() {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
    },
  };
}

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname, port: Number(port || 6379) });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

type CreateRedisBus = (options: BusOptions & { url: string; keyPrefix: string }) => EventBus;

async function loadCreateRedisBus(): Promise<CreateRedisBus | undefined> {
  try {
    const mod: { createRedisBus?: CreateRedisBus } = await import('@repopulse/bus-redis');
    return typeof mod.createRedisBus === 'function' ? mod.createRedisBus : undefined;
  } catch {
    return undefined;
  }
}

function redisFactory(createRedisBus: CreateRedisBus, label: string): BusFactory {
  const buses: EventBus[] = [];
  const prefixes: string[] = [];
  let counter = 0;
  return {
    name: 'redis',
    async create(options) {
      const keyPrefix = `rp-test:sse:${label}:${process.pid}:${Date.now().toString(36)}:${counter++}:`;
      prefixes.push(keyPrefix);
      const bus = createRedisBus({ ...options, url: REDIS_URL, keyPrefix });
      buses.push(bus);
      return bus;
    },
    async cleanup() {
      await Promise.all(buses.splice(0).map((bus) => bus.close()));
      if (prefixes.length === 0) return;
      const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await redis.connect();
        for (const prefix of prefixes.splice(0)) {
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
    },
  };
}

/**
 * The buses every transport test runs against: memory always; Redis when `@repopulse/bus-redis`
 * exports `createRedisBus` and a server answers at `REDIS_URL` (default the shared
 * redis://127.0.0.1:6379), each test file with its own key prefix. Locally a missing Redis is
 * skipped with a loud message; under `CI=true` it is an error.
 */
export async function busFactories(label: string): Promise<BusFactory[]> {
  const factories = [memoryFactory()];
  const createRedisBus = await loadCreateRedisBus();
  const why = !createRedisBus
    ? '@repopulse/bus-redis does not export createRedisBus'
    : !(await reachable(REDIS_URL))
      ? `no Redis answers at ${REDIS_URL}`
      : undefined;
  if (why === undefined && createRedisBus) factories.push(redisFactory(createRedisBus, label));
  else if (process.env.CI === 'true') {
    throw new Error(`[sse-express tests] Redis bus required under CI=true but ${why}`);
  } else {
    console.warn(`\n!!! [sse-express tests: ${label}] SKIPPING the Redis bus: ${why} !!!\n`);
  }
  return factories;
}
