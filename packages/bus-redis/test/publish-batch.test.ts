import { collect, numbered, numberOf } from '@repopulse/bus-contract';
import { createEvent } from '@repopulse/events-core';
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

  it('multi-byte text is stored and delivered byte for byte, whichever topic and id it has', async () => {
    const bus = createRedisBus({ url: server.url, keyPrefix: 'utf8:' });
    const topic = 'repo:ü→💡';
    const sub = await collect(bus, topic);
    const texts = ['é', '€ 42', '💡 idea', 'ascii', `mixed ${'ß'.repeat(300)} ✓`];
    const events = texts.map((message, i) =>
      createEvent('log.append', { level: 'info', message: `${i} ${message}` }, { request_id: `rq-ä-${i}` }),
    );
    await Promise.all(events.map((event) => bus.publish(topic, event))); // one batch
    await sub.waitForEvents(events.length, 5000);
    expect(sub.events().map((d) => d.event)).toEqual(events);
    const stored = await admin.xrange(`utf8:{${topic}}`, '-', '+');
    expect(stored.map(([, fields]) => fields[fields.indexOf('e') + 1])).toEqual(
      events.map((event) => JSON.stringify(event)),
    );
    const replay = await collect(bus, topic, { after: '0-0' });
    await replay.waitForEvents(events.length, 5000);
    expect(replay.events().map((d) => d.event)).toEqual(events);
    await bus.close();
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

  it('a batch of 40 topics (KEYS indexes of one, two and three digits): each event lands in its own topic', async () => {
    const bus = createRedisBus({ url: server.url, keyPrefix: 'wide:' });
    const topics = Array.from({ length: 40 }, (_, i) => `repo:${i}`);
    await bus.publish('repo:warm', numbered(0)); // loads the script
    const before = await scriptCalls(admin);
    await Promise.all(
      topics.flatMap((topic, t) => [bus.publish(topic, numbered(t)), bus.publish(topic, numbered(t + 100))]),
    );
    expect((await scriptCalls(admin)) - before).toBe(1);
    for (const [t, topic] of topics.entries()) {
      const stored = await admin.xrange(`wide:{${topic}}`, '-', '+');
      const numbers = stored.map(([, fields]) => numberOf(JSON.parse(fields[fields.indexOf('e') + 1]!)));
      expect(numbers).toEqual([t, t + 100]);
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
