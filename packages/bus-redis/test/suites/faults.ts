import { collect, numbered, numberOf } from '@repopulse/bus-contract';
import { BusUnavailableError, type StreamPosition } from '@repopulse/events-core';
import { Redis } from 'ioredis';
import { afterEach, expect, it, vi } from 'vitest';
import { createRedisBus, type RedisBusOptions, topicKey } from '../../src/index';
import { describeWithRedis, type RedisServer, startRedisServer } from '../redis-server';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** The fault tests, registered under `bus-redis: faults (<client>)`; run once per ioredis major. */
export function faultsSuite(client: string): void {
  describeWithRedis(`bus-redis: faults (${client})`, () => {
    const cleanup: (() => Promise<unknown>)[] = [];
    const server = async (appendonly = false) => {
      const s = await startRedisServer({ appendonly });
      cleanup.push(() => s.destroy());
      return s;
    };
    const bus = (s: RedisServer, options: Partial<RedisBusOptions> = {}) => {
      const b = createRedisBus({ url: s.url, onError: () => {}, ...options });
      cleanup.unshift(() => b.close());
      return b;
    };
    const admin = (s: RedisServer) => {
      const client = new Redis(s.url, { maxRetriesPerRequest: null });
      client.on('error', () => {});
      cleanup.unshift(async () => client.disconnect());
      return client;
    };
    afterEach(async () => {
      for (const step of cleanup.splice(0)) await step();
    });

    it('CLIENT KILL TYPE pubsub: subscribers catch up from the stream with zero loss, zero duplicates', async () => {
      const s = await server();
      const [publisher, subscriberBus] = [bus(s), bus(s)];
      const redis = admin(s);
      const topic = 'repo:kill';
      const live = await collect(subscriberBus, topic);
      const replayed = await collect(subscriberBus, topic, { after: '0-0' });
      for (let i = 0; i < 10; i++) await publisher.publish(topic, numbered(i));
      await live.waitForEvents(10, 5000);

      const killed = (await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub')) as number;
      expect(killed).toBeGreaterThanOrEqual(1);
      // Published while the subscriber connection is gone: Pub/Sub drops these, the stream has them.
      for (let i = 10; i < 60; i++) await publisher.publish(topic, numbered(i));
      await live.waitForEvents(60, 5000);
      for (let i = 60; i < 80; i++) await publisher.publish(topic, numbered(i));
      for (const sub of [live, replayed]) {
        await sub.waitForEvents(80, 5000);
        expect(sub.numbers()).toEqual(range(0, 80));
        expect(sub.resets()).toEqual([]);
      }
      const numsub = (await redis.call('PUBSUB', 'NUMSUB', topicKey('repopulse:', topic))) as [
        string,
        number,
      ];
      expect(numsub[1]).toBe(1); // resubscribed, once
    });

    it('Redis restart with AOF: history kept, zero loss, zero duplicates, no reset', async () => {
      const s = await server(true);
      const options = { publishTimeoutMs: 15_000 };
      const [publisher, subscriberBus] = [bus(s, options), bus(s, options)];
      const topic = 'repo:aof';
      const subs = [
        await collect(subscriberBus, topic),
        await collect(subscriberBus, topic, { after: '0-0' }),
      ];
      const positions: StreamPosition[] = [];
      for (let i = 0; i < 20; i++) positions.push((await publisher.publish(topic, numbered(i))).position);
      await subs[0]!.waitForEvents(20, 5000);

      await s.stop();
      // Published while Redis is down: they wait (bounded) and are stored once it is back.
      const during = Promise.all(range(20, 40).map((i) => publisher.publish(topic, numbered(i))));
      await new Promise((r) => setTimeout(r, 200));
      await s.start();
      await during;
      for (let i = 40; i < 50; i++) await publisher.publish(topic, numbered(i));

      for (const sub of subs) {
        await sub.waitForEvents(50, 10_000);
        expect(sub.numbers()).toEqual(range(0, 50));
        expect(sub.resets()).toEqual([]);
      }
      // A fresh process resuming from a pre-restart position replays the rest.
      const resumed = await collect(bus(s, options), topic, { after: positions[9]! });
      await resumed.waitForEvents(40, 5000);
      expect(resumed.numbers()).toEqual(range(10, 50));
      expect(resumed.resets()).toEqual([]);
    });

    it('Redis restart without persistence: subscribers get a history_lost reset, then live', async () => {
      const s = await server(false);
      const options = { publishTimeoutMs: 15_000 };
      const [publisher, subscriberBus] = [bus(s, options), bus(s, options)];
      const topic = 'repo:volatile';
      const sub = await collect(subscriberBus, topic);
      for (let i = 0; i < 10; i++) await publisher.publish(topic, numbered(i));
      await sub.waitForEvents(10, 5000);

      await s.restart();
      await sub.waitForReset(10_000);
      expect(sub.deliveries[10]).toEqual({ reset: true, position: '0-0', reason: 'history_lost' });
      const after = await publisher.publish(topic, numbered(100));
      await sub.waitForEvents(11, 5000);
      expect(sub.numbers()).toEqual([...range(0, 10), 100]);
      expect(sub.deliveries).toHaveLength(12);
      expect(sub.events().at(-1)!.position).toBe(after.position);

      // Old positions are now unknown to the new stream: a reset, never a silent gap.
      const late = await collect(subscriberBus, topic, { after: sub.events()[3]!.position });
      await late.waitForReset(5000);
      expect(late.deliveries[0]).toMatchObject({ reset: true, position: after.position });
    });

    it('Redis stopped while publishing: typed BusUnavailableError after the bound; every resolved publish is stored', async () => {
      const s = await server(true);
      const publishTimeoutMs = 300;
      const publisher = bus(s, { publishTimeoutMs, maxPendingPublishes: 20 });
      const topic = 'repo:outage';
      const resolved: { id: string; position: StreamPosition }[] = [];
      const rejected: { id: string; error: unknown; waitedMs: number }[] = [];
      const attempts: Promise<void>[] = [];
      let i = 0;
      const fire = () => {
        const event = numbered(i++);
        const started = Date.now();
        attempts.push(
          publisher.publish(topic, event).then(
            (r) => void resolved.push({ id: event.id, position: r.position }),
            (error: unknown) => void rejected.push({ id: event.id, error, waitedMs: Date.now() - started }),
          ),
        );
      };
      for (let n = 0; n < 50; n++) {
        fire();
        await new Promise((r) => setTimeout(r, 1));
      }
      const stopping = s.stop();
      for (let n = 0; n < 150; n++) {
        fire();
        await new Promise((r) => setTimeout(r, 2));
      }
      await stopping;
      await Promise.all(attempts);

      expect(resolved.length).toBeGreaterThanOrEqual(50);
      expect(rejected.length).toBeGreaterThan(0);
      for (const r of rejected) {
        expect(r.error).toBeInstanceOf(BusUnavailableError);
        expect(r.error).toMatchObject({ code: 'bus_unavailable' });
      }
      const message = (r: { error: unknown }) => (r.error as Error).message;
      const overflow = rejected.filter((r) => message(r).includes('maxPendingPublishes'));
      const timedOut = rejected.filter((r) => message(r).includes('was not stored') && !overflow.includes(r));
      expect(overflow.length).toBeGreaterThan(0); // beyond 20 waiting: refused at once
      expect(timedOut.length).toBeGreaterThan(0);
      for (const r of timedOut) expect(r.waitedMs).toBeGreaterThanOrEqual(publishTimeoutMs - 5);

      await s.start();
      const redis = admin(s);
      const entries = (await redis.xrange(topicKey('repopulse:', topic), '-', '+')) as [string, string[]][];
      const stored = new Map(entries.map(([position, fields]) => [fields[1], position]));
      for (const r of resolved) expect(stored.get(r.id)).toBe(r.position);
      // A publish refused before it was ever sent is not stored either.
      for (const r of [...overflow, ...timedOut]) expect(stored.has(r.id)).toBe(false);
      // And the bus works again, on its own, once its connection is back (ioredis's reconnect back-off
      // can exceed this bus's 300 ms bound after a long outage, so early attempts may still be refused).
      const again = await vi.waitFor(() => publisher.publish(topic, numbered(999)), {
        timeout: 10_000,
        interval: 100,
      });
      expect(again.position).toMatch(/^\d+-\d+$/);
    });

    it('a Redis that takes a publish but does not answer in time: rejected as "may or may not have been stored"', async () => {
      const s = await server();
      const publisher = bus(s, { publishTimeoutMs: 200 });
      const redis = admin(s);
      const topic = 'repo:paused';
      await publisher.publish(topic, numbered(0));
      await redis.call('CLIENT', 'PAUSE', '600', 'WRITE'); // a hung server, as far as writes go
      const event = numbered(1);
      const error = await publisher.publish(topic, event).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BusUnavailableError);
      expect((error as Error).message).toMatch(/may or may not have been stored/);
      // The honest answer: Redis had the command and runs it once the pause ends.
      await vi.waitFor(
        async () => {
          const entries = await redis.xrange(topicKey('repopulse:', topic), '-', '+');
          expect(entries.map(([, fields]) => fields[1])).toContain(event.id);
        },
        { timeout: 5000, interval: 50 },
      );
    });

    it('subscribe and head while Redis is down reject with BusUnavailableError after the bound', async () => {
      const s = await server();
      const b = bus(s, { publishTimeoutMs: 200 });
      await b.publish('repo:x', numbered(0));
      await s.stop();
      await expect(b.head('repo:x')).rejects.toBeInstanceOf(BusUnavailableError);
      await expect(b.subscribe('repo:y', () => {}, { after: '0-0' })).rejects.toMatchObject({
        code: 'bus_unavailable',
      });
      expect(b.stats()).toEqual({ topics: 0, subscriptions: 0 });
    });

    it('reference-counts channels: one SUBSCRIBE per topic, released by the last unsubscribe', async () => {
      const s = await server();
      const b = bus(s);
      const redis = admin(s);
      const numsub = async (topic: string) =>
        ((await redis.call('PUBSUB', 'NUMSUB', topicKey('repopulse:', topic))) as [string, number])[1];
      const first = await b.subscribe('repo:1', () => {});
      const second = await b.subscribe('repo:1', () => {}, { after: '0-0' });
      const other = await b.subscribe('repo:2', () => {});
      expect(b.stats()).toEqual({ topics: 2, subscriptions: 3 });
      expect(await numsub('repo:1')).toBe(1);
      expect(await numsub('repo:2')).toBe(1);
      await first.unsubscribe();
      expect(await numsub('repo:1')).toBe(1);
      await second.unsubscribe();
      expect(await numsub('repo:1')).toBe(0);
      expect(b.stats()).toEqual({ topics: 1, subscriptions: 1 });

      // Concurrent subscribe/unsubscribe storms on one channel end in the state the counts say.
      for (let round = 0; round < 30; round++) {
        const subs = await Promise.all(range(0, 5).map(() => b.subscribe('repo:1', () => {})));
        const keep = round % 3 === 0 ? subs.pop() : undefined;
        await Promise.all(subs.map((x) => x.unsubscribe()));
        expect(await numsub('repo:1')).toBe(keep ? 1 : 0);
        await keep?.unsubscribe();
        expect(await numsub('repo:1')).toBe(0);
      }
      await other.unsubscribe();
      expect(await numsub('repo:2')).toBe(0);
      expect(b.stats()).toEqual({ topics: 0, subscriptions: 0 });
      const pubsubClients = (await redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
      expect(pubsubClients.trim().split('\n')).toHaveLength(1); // one subscriber connection per bus
    });

    it('SCRIPT FLUSH: publish and replay reload their scripts (NOSCRIPT) and keep working', async () => {
      const s = await server();
      const b = bus(s);
      const redis = admin(s);
      const topic = 'repo:noscript';
      await b.publish(topic, numbered(0));
      await redis.script('FLUSH');
      expect(await redis.script('EXISTS', '0'.repeat(40))).toEqual([0]);
      const results = await Promise.all(range(1, 6).map((i) => b.publish(topic, numbered(i))));
      expect(results).toHaveLength(5);
      await redis.script('FLUSH');
      const sub = await collect(b, topic, { after: '0-0' });
      await sub.waitForEvents(6, 5000);
      expect(sub.numbers().sort((x, y) => x - y)).toEqual(range(0, 6));
    });

    it('reports a lost connection to onError once per outage (source: connection)', async () => {
      const s = await server();
      const errors: string[] = [];
      const b = bus(s, { onError: (_error, context) => errors.push(context.source) });
      const sub = await collect(b, 'repo:err');
      await s.stop();
      await vi.waitFor(() => expect(errors).toContain('connection'), { timeout: 5000 });
      await new Promise((r) => setTimeout(r, 300));
      expect(errors.filter((e) => e === 'connection').length).toBeLessThanOrEqual(2); // command + subscriber
      await s.start();
      const p = await b.publish('repo:err', numbered(1));
      await sub.waitForEvents(1, 5000);
      expect(sub.events()[0]!.position).toBe(p.position);
      expect(numberOf(sub.events()[0]!.event)).toBe(1);
    });
  });
}
