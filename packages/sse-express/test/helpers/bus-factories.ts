import { createMemoryBus } from '@repopulse/bus-memory';
import type { BusOptions, EventBus } from '@repopulse/events-core';
import { deleteKeys, reachableRedis, redisUrl, requirement } from '@repopulse/test-support';

/** Makes a fresh bus for one test; `cleanup` closes it and removes what it stored. */
export interface BusFactory {
  /** Shown in test names. */
  name: string;
  /** A fresh, isolated bus. */
  create(options?: BusOptions): Promise<EventBus>;
  /** Closes every bus this factory made and deletes their data. */
  cleanup(): Promise<void>;
}

const REDIS_URL = redisUrl();

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
      await deleteKeys(REDIS_URL, ...prefixes.splice(0));
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
    : !(await reachableRedis(REDIS_URL))
      ? `no Redis answers at ${REDIS_URL}`
      : undefined;
  if (requirement(`sse-express tests: ${label}`, why, 'the Redis bus') === 'run' && createRedisBus) {
    factories.push(redisFactory(createRedisBus, label));
  }
  return factories;
}
