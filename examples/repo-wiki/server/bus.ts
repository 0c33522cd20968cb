import { createMemoryBus } from '@repopulse/bus-memory';
import type { EventBus } from '@repopulse/events-core';
import type { AppConfig } from './config';
import type { Logger } from './logger';

/**
 * The in-memory bus, or the Redis bus when `REDIS_URL` is set (loaded only then, so a
 * memory-bus run never loads ioredis), retaining `historyLimit` events per topic (and none older
 * than `historyTtlMs` when set).
 */
export async function createBus(config: AppConfig, log: Logger): Promise<EventBus> {
  const onError = (error: unknown, context: { source: string; topic?: string }) =>
    log.error('bus error', { ...context, error });
  const retention = {
    historyLimit: config.historyLimit,
    ...(config.historyTtlMs ? { historyTtlMs: config.historyTtlMs } : {}),
  };
  if (config.redisUrl) {
    const { createRedisBus } = await import('@repopulse/bus-redis');
    return createRedisBus({ url: config.redisUrl, keyPrefix: config.redisPrefix, onError, ...retention });
  }
  return createMemoryBus({ onError, ...retention });
}
