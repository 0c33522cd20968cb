import { numbered, numberOf, prng } from '@repopulse/bus-contract';
import type { BusDelivery, StreamPosition, Subscription } from '@repopulse/events-core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { createRedisBus, type RedisBus, topicKey } from '../src/index';
import { describeWithRedis, type RedisServer, startRedisServer } from './redis-server';

const TOTAL = 5000;
const IN_FLIGHT = 32; // concurrent publishes per publishing bus
const CLIENTS = 6;
const RECONNECTS = 8; // per client, at random points of its sequence

interface Client {
  positions: StreamPosition[];
  numbers: number[];
  resets: BusDelivery[];
  stale: number;
  generation: number;
  reconnects: number;
  /** Counts of delivered events after which the client drops its subscription and resumes. */
  schedule: number[];
  subscription: Subscription | undefined;
  reconnecting: boolean;
}

// 5,000 events from two buses; subscribers on two other buses unsubscribe and resume with
// `after` at random points (sometimes on the other bus), and the Pub/Sub connections are killed
// twice on the way. Every subscriber must end up with the whole log: complete, ordered, no duplicate.
describeWithRedis('bus-redis: soak', () => {
  let server: RedisServer;
  let buses: RedisBus[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
    buses = Array.from({ length: 4 }, () =>
      createRedisBus({ url: server.url, historyLimit: 2 * TOTAL, onError: () => {} }),
    );
  });
  afterAll(async () => {
    await Promise.all(buses.map((b) => b.close()));
    await server?.destroy();
  });

  it(`${TOTAL} events, ${CLIENTS} resuming subscribers: every sequence complete, ordered, duplicate-free`, async () => {
    const random = prng(20261129);
    const [publisherA, publisherB, subscriberC, subscriberD] = buses as [
      RedisBus,
      RedisBus,
      RedisBus,
      RedisBus,
    ];
    const topic = 'repo:soak';
    const admin = new Redis(server.url);

    const clients: Client[] = [];
    const attach = async (client: Client, bus: RedisBus) => {
      const generation = ++client.generation;
      const after = client.positions.at(-1) ?? '0-0';
      client.subscription = await bus.subscribe(
        topic,
        (delivery) => {
          if (generation !== client.generation) {
            client.stale++;
            return;
          }
          if (delivery.reset) {
            client.resets.push(delivery);
            return;
          }
          client.positions.push(delivery.position);
          client.numbers.push(numberOf(delivery.event));
          maybeReconnect(client);
        },
        { after },
      );
    };
    // The next scheduled point passed (also while the resumed subscription was replaying): go.
    const maybeReconnect = (client: Client) => {
      if (client.reconnecting || client.reconnects >= client.schedule.length) return;
      if (client.positions.length < client.schedule[client.reconnects]!) return;
      client.reconnecting = true;
      setTimeout(() => void reconnect(client), Math.floor(random() * 5));
    };
    const reconnect = async (client: Client) => {
      const old = client.subscription;
      client.subscription = undefined;
      await old?.unsubscribe();
      client.generation++; // anything the old subscription still delivered now counts as stale
      // Stay away for a moment while publishing goes on, then resume where we left off.
      await new Promise((r) => setTimeout(r, Math.floor(random() * 20)));
      client.reconnects++;
      await attach(client, random() < 0.5 ? subscriberC : subscriberD);
      client.reconnecting = false;
      maybeReconnect(client);
    };

    for (let c = 0; c < CLIENTS; c++) {
      const client: Client = {
        positions: [],
        numbers: [],
        resets: [],
        stale: 0,
        generation: 0,
        reconnects: 0,
        schedule: Array.from({ length: RECONNECTS }, () => 1 + Math.floor(random() * (TOTAL - 1))).sort(
          (a, b) => a - b,
        ),
        subscription: undefined,
        reconnecting: false,
      };
      clients.push(client);
      await attach(client, c % 2 ? subscriberC : subscriberD);
    }

    let next = 0;
    const worker = async (bus: RedisBus) => {
      while (next < TOTAL) {
        const n = next++;
        await bus.publish(topic, numbered(n));
        if (n === 1500 || n === 3500) await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      }
    };
    await Promise.all(
      Array.from({ length: IN_FLIGHT * 2 }, (_, i) => worker(i % 2 ? publisherA : publisherB)),
    );

    const entries = (await admin.xrange(topicKey('repopulse:', topic), '-', '+')) as [string, string[]][];
    const log = entries.map(([position]) => position as StreamPosition);
    expect(log).toHaveLength(TOTAL);
    const head = log.at(-1)!;
    await vi.waitFor(
      () => {
        for (const client of clients) {
          expect(client.reconnecting).toBe(false);
          expect(client.positions.at(-1)).toBe(head);
        }
      },
      { timeout: 15_000, interval: 20 },
    );

    const logNumbers = entries.map(([, fields]) => numberOf(JSON.parse(fields[3]!)));
    for (const [i, client] of clients.entries()) {
      expect(client.resets, `client ${i}: no reset expected`).toEqual([]);
      expect(client.stale, `client ${i}: delivery after unsubscribe`).toBe(0);
      expect(client.positions.length, `client ${i}: count`).toBe(TOTAL);
      expect(client.positions, `client ${i}: complete, ordered, duplicate-free`).toEqual(log);
      expect(client.numbers, `client ${i}: payloads match positions`).toEqual(logNumbers);
    }
    for (const [i, client] of clients.entries()) {
      expect(client.reconnects, `client ${i}: resumed at every scheduled point`).toBe(RECONNECTS);
    }
    await Promise.all(clients.map((c) => c.subscription?.unsubscribe()));
    await admin.quit();
  });
});
