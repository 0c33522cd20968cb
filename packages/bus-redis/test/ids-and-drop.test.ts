// How the Redis bus keeps event ids for idempotent publish, and what a drop leaves behind,
// looked at in the Redis keys themselves.
import { collect, numbered, settle } from '@repopulse/bus-contract';
import { createEvent } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { createRedisBus, type RedisBus } from '../src/index';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server';

describeWithRedis('bus-redis: event ids and drops in Redis', () => {
  let server: RedisServer;
  let admin: Redis;
  const buses: RedisBus[] = [];
  const bus = (options: { historyLimit?: number; historyTtlMs?: number } = {}) => {
    const created = createRedisBus({ url: server.url, ...options });
    buses.push(created);
    return created;
  };
  let n = 0;
  const topic = () => `ids:${++n}`;
  const keysOf = (t: string) => {
    const stream = `repopulse:{${t}}`;
    return { stream, ids: `${stream}:ids`, idlog: `${stream}:idlog` };
  };
  const counts = async (t: string) => {
    const { stream, ids, idlog } = keysOf(t);
    return { stream: await admin.xlen(stream), ids: await admin.hlen(ids), idlog: await admin.llen(idlog) };
  };

  beforeAll(async () => {
    server = await startRedisServer();
    admin = new Redis(server.url);
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((b) => b.close()));
  });
  afterAll(async () => {
    await admin?.quit();
    await server?.destroy();
  });

  it('remembers exactly the ids of the entries the stream holds, also after MAXLEN ~ trims', async () => {
    const b = bus({ historyLimit: 10 });
    const t = topic();
    const events = Array.from({ length: 700 }, (_, i) => numbered(i));
    for (const event of events) await b.publish(t, event);
    const held = await counts(t);
    expect(held.stream).toBeLessThan(700);
    expect(held).toEqual({ stream: held.stream, ids: held.stream, idlog: held.stream });
    // The oldest events left the stream and their ids with them: stored again, as new events.
    expect((await b.publish(t, events[0]!)).duplicate).toBeUndefined();
    expect((await b.publish(t, events[699]!)).duplicate).toBe(true);
  });

  it('forgets the ids of entries the age limit removed', async () => {
    const b = bus({ historyTtlMs: 100 });
    const t = topic();
    const old = numbered(0);
    await b.publish(t, old);
    await b.publish(t, numbered(1));
    await new Promise((resolve) => setTimeout(resolve, 250));
    const again = await b.publish(t, old);
    expect(again.duplicate).toBeUndefined();
    expect(await counts(t)).toEqual({ stream: 1, ids: 1, idlog: 1 });
  });

  it('a batch holding one id twice (one tick, several topics) stores it once per topic', async () => {
    const b = bus();
    const [t1, t2] = [topic(), topic()];
    const event = createEvent('log.append', { level: 'info', message: 'same' });
    const results = await Promise.all([t1, t2, t1, t2, t1].map((t) => b.publish(t, event)));
    expect(results.map((r) => r.duplicate ?? false)).toEqual([false, false, true, true, true]);
    expect(results[2]!.position).toBe(results[0]!.position);
    expect(results[3]!.position).toBe(results[1]!.position);
    expect((await counts(t1)).stream).toBe(1);
    expect((await counts(t2)).stream).toBe(1);
  });

  it('works on a stream written before ids were kept (no id keys yet)', async () => {
    const b = bus({ historyLimit: 5 });
    const t = topic();
    const legacy = numbered(0);
    await admin.xadd(keysOf(t).stream, '*', 'i', legacy.id, 'e', JSON.stringify(legacy));
    const stored = await b.publish(t, numbered(1));
    expect(stored.duplicate).toBeUndefined();
    for (let i = 2; i < 400; i++) await b.publish(t, numbered(i));
    const held = await counts(t);
    expect(held).toEqual({ stream: held.stream, ids: held.stream, idlog: held.stream });
  });

  it('a drop leaves one empty stream holding its last position, and no ids', async () => {
    const b = bus();
    const t = topic();
    for (let i = 0; i < 20; i++) await b.publish(t, numbered(i));
    const last = await b.head(t);
    await b.dropTopic(t);
    const { stream, ids, idlog } = keysOf(t);
    expect(await admin.exists(stream, ids, idlog)).toBe(1);
    expect(await admin.xlen(stream)).toBe(0);
    const head = await b.head(t);
    expect(comparePositions(head, last)).toBeGreaterThan(0);
    const usage = Number(await admin.memory('USAGE', stream));
    expect(usage).toBeLessThan(1024);
  });

  it('a drop reaches a subscriber whose bus is on another connection, between live events, in order', async () => {
    const [a, b] = [bus(), bus()];
    const t = topic();
    const sub = await collect(b, t);
    await a.publish(t, numbered(0));
    await a.dropTopic(t);
    await a.publish(t, numbered(1));
    await sub.waitForEvents(2, 5000);
    await settle();
    expect(sub.deliveries.map((d) => (d.reset ? d.reason : d.event.type))).toEqual([
      'log.append',
      'history_lost',
      'log.append',
    ]);
  });
});
