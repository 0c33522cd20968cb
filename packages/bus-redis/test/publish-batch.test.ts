import { collect, numbered } from '@repopulse/bus-contract';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createRedisBus } from '../src/index';
import { MAX_BATCH_EVENTS } from '../src/publish-batch';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server';

const scriptCalls = async (redis: Redis) => {
  const stats = (await redis.info('commandstats')).split('\r\n');
  let calls = 0;
  for (const line of stats) {
    const match = /^cmdstat_(evalsha|eval):calls=(\d+)/.exec(line);
    if (match) calls += Number(match[2]);
  }
  return calls;
};

describeWithRedis('bus-redis: publishes of one tick share script calls', () => {
  let server: RedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.destroy();
  });

  it('concurrent publishes to several topics: batched, each topic in publish order, each event once', async () => {
    const bus = createRedisBus({ url: server.url, keyPrefix: 'batch:' });
    const topics = ['repo:1', 'repo:2', 'repo:3'];
    const subs = await Promise.all(topics.map((topic) => collect(bus, topic)));
    const perTopic = MAX_BATCH_EVENTS * 2 + 7;
    await bus.publish('repo:warm', numbered(0)); // loads the script
    const before = await scriptCalls(admin);
    const results = await Promise.all(
      Array.from({ length: perTopic * topics.length }, (_, i) =>
        bus.publish(topics[i % topics.length]!, numbered(Math.floor(i / topics.length))),
      ),
    );
    const calls = (await scriptCalls(admin)) - before;
    expect(calls).toBeLessThanOrEqual(Math.ceil(results.length / MAX_BATCH_EVENTS) + 1);
    for (const [t, sub] of subs.entries()) {
      await sub.waitForEvents(perTopic, 5000);
      expect(sub.numbers()).toEqual(Array.from({ length: perTopic }, (_, i) => i));
      const mine = results.filter((_, i) => i % topics.length === t).map((r) => r.position);
      expect(sub.events().map((e) => e.position)).toEqual(mine);
      expect(await admin.xlen(`batch:{${topics[t]}}`)).toBe(perTopic);
    }
    await bus.close();
  });

  it('an event Redis refuses fails alone: the others of its batch are stored and delivered', async () => {
    const bus = createRedisBus({ url: server.url, keyPrefix: 'refuse:' });
    await admin.set('refuse:{repo:bad}', 'not a stream');
    const sub = await collect(bus, 'repo:good');
    const outcomes = await Promise.allSettled([
      bus.publish('repo:good', numbered(1)),
      bus.publish('repo:bad', numbered(2)),
      bus.publish('repo:good', numbered(3)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toMatchObject({
      code: 'bus_unavailable',
      message: expect.stringMatching(/Redis refused or failed the publish: WRONGTYPE/),
    });
    await sub.waitForEvents(2, 5000);
    expect(sub.numbers()).toEqual([1, 3]);
    expect(await admin.type('refuse:{repo:bad}')).toBe('string');
    await bus.close();
  });
});
