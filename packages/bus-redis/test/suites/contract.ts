import { testBus } from '@repopulse/bus-contract';
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { createRedisBus } from '../../src/index';
import { describeWithRedis, redisServerPerSuite } from '../redis-server';

// MAXLEN ~ trims whole stream nodes (stream-node-max-entries, default 100), so the retention
// test publishes this many extra events before it expects the oldest to be gone.
const trimSlack = 250;

/** The shared contract suite on a private redis-server (and on `REDIS_URL` when set), for one ioredis major. */
export function contractSuite(client: string): void {
  describeWithRedis(`bus-redis contract (${client}, own redis-server)`, () => {
    const server = redisServerPerSuite();
    testBus(`redis, ${client}`, (options) => createRedisBus({ url: server().url, ...options }), {
      sharedHistory: true,
      trimSlack,
    });
  });

  // Also run against an existing Redis when REDIS_URL is given (keys under a per-run prefix, removed after).
  const redisUrl = process.env.REDIS_URL;
  if (redisUrl) {
    describeWithRedis(`bus-redis contract (${client}, REDIS_URL=${redisUrl})`, () => {
      const keyPrefix = `repopulse-test:${Date.now().toString(36)}:`;
      afterAll(async () => {
        const admin = new Redis(redisUrl);
        const keys = await admin.keys(`${keyPrefix}*`);
        if (keys.length > 0) await admin.del(...keys);
        await admin.quit();
      });
      testBus(
        `redis (REDIS_URL), ${client}`,
        (options) => createRedisBus({ url: redisUrl, keyPrefix, ...options }),
        {
          sharedHistory: true,
          trimSlack,
        },
      );
    });
  }
}
