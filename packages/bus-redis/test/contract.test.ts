import { testBus } from '@repopulse/bus-contract';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { createRedisBus } from '../src/index';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server';

// MAXLEN ~ trims whole stream nodes (stream-node-max-entries, default 100), so the retention
// test publishes this many extra events before it expects the oldest to be gone.
const trimSlack = 250;

describeWithRedis('bus-redis contract (own redis-server)', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    await server?.destroy();
  });
  testBus('redis', (options) => createRedisBus({ url: server.url, ...options }), {
    sharedHistory: true,
    trimSlack,
  });
});

// Also run against an existing Redis when REDIS_URL is given (keys under a per-run prefix, removed after).
const redisUrl = process.env.REDIS_URL;
if (redisUrl) {
  describeWithRedis(`bus-redis contract (REDIS_URL=${redisUrl})`, () => {
    const keyPrefix = `repopulse-test:${Date.now().toString(36)}:`;
    afterAll(async () => {
      const admin = new Redis(redisUrl);
      const keys = await admin.keys(`${keyPrefix}*`);
      if (keys.length > 0) await admin.del(...keys);
      await admin.quit();
    });
    testBus('redis (REDIS_URL)', (options) => createRedisBus({ url: redisUrl, keyPrefix, ...options }), {
      sharedHistory: true,
      trimSlack,
    });
  });
}
