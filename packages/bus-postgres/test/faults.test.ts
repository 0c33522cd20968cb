import { type Collector, collect, numbered, prng, settle } from '@repopulse/bus-contract';
import type { AnyEnvelope, StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { type PostgresProcess, startPostgres } from '@repopulse/test-support';
import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { createPostgresBus, type PostgresBus, type PostgresBusOptions } from '../src/index';
import { describeWithPostgresServer } from './postgres-support';

/** One stored event as its publisher learnt it. */
interface Committed {
  position: StreamPosition;
  id: string;
}

/**
 * Every subscriber holds every committed event once, in position order, and nothing else except
 * events whose publish failed (they may or may not have been stored) — or, after an explicit reset,
 * every committed event after the reset's position.
 */
function expectEveryCommittedEventOnce(sub: Collector, committed: Committed[], maybe: Set<string>): void {
  const events = sub.events();
  for (let i = 1; i < events.length; i++) {
    expect(comparePositions(events[i]!.position, events[i - 1]!.position)).toBeGreaterThan(0);
  }
  const ids = new Set(committed.map((c) => c.id));
  for (const { event } of events) expect(ids.has(event.id) || maybe.has(event.id)).toBe(true);
  const resets = sub.resets();
  const from = resets.at(-1)?.position;
  const expected = committed
    .filter((c) => from === undefined || comparePositions(c.position, from) > 0)
    .sort((a, b) => comparePositions(a.position, b.position));
  const delivered = events
    .filter((d) => ids.has(d.event.id) && (from === undefined || comparePositions(d.position, from) > 0))
    .map((d) => ({ position: d.position, id: d.event.id }));
  expect(delivered).toEqual(expected);
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await settle(20);
  }
}

describeWithPostgresServer('bus-postgres: faults (a Postgres of its own per test)', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0)) await step().catch(() => {});
  });
  const server = async () => {
    const s = await startPostgres();
    cleanup.push(() => s.destroy());
    return s;
  };
  const bus = (s: PostgresProcess, options: Partial<PostgresBusOptions> = {}) => {
    const b = createPostgresBus({ connectionString: s.url, onError: () => {}, ...options });
    cleanup.unshift(() => b.close());
    return b;
  };
  const admin = (s: PostgresProcess) => {
    const pool = new pg.Pool({ connectionString: s.url, max: 4 });
    pool.on('error', () => {});
    cleanup.unshift(() => pool.end());
    return pool;
  };
  /** Subscribers on each bus: live only and from `0-0`, made before anything is published. */
  const subscribers = async (buses: PostgresBus[], topic: string) => {
    const subs: Collector[] = [];
    for (const b of buses) {
      subs.push(await collect(b, topic));
      subs.push(await collect(b, topic, { after: '0-0' }));
    }
    return subs;
  };
  /** Publishes `count` events from `publishers` in parallel chains while `fault` runs once, midway. */
  const publishThrough = async (
    publishers: PostgresBus[],
    topic: string,
    count: number,
    fault: () => Promise<unknown>,
  ) => {
    const committed: Committed[] = [];
    const maybe = new Set<string>();
    let next = 0;
    let faulted: Promise<unknown> | undefined;
    await Promise.all(
      publishers.map(async (publisher) => {
        while (next < count) {
          const n = next++;
          if (n === Math.floor(count / 2)) faulted = fault();
          const event = numbered(n) as AnyEnvelope;
          try {
            const result = await publisher.publish(topic, event);
            committed.push({ position: result.position, id: result.event.id });
          } catch (error) {
            expect(error).toMatchObject({ code: 'bus_unavailable' });
            maybe.add(event.id);
          }
        }
      }),
    );
    await faulted;
    return { committed, maybe };
  };
  const settleAll = async (subs: Collector[], committed: Committed[], maybe: Set<string>) => {
    const ids = new Set(committed.map((c) => c.id));
    for (const sub of subs) {
      await waitUntil(
        () =>
          sub.resets().length > 0 ||
          sub.events().filter((d) => ids.has(d.event.id)).length >= committed.length,
        20_000,
        'every committed event',
      );
    }
    await settle(200);
    for (const sub of subs) expectEveryCommittedEventOnce(sub, committed, maybe);
  };

  for (const mode of ['fast', 'immediate'] as const) {
    it(`${mode === 'fast' ? 'a' : 'an'} ${mode} restart mid-stream: every committed event once, in order, on every subscriber`, async () => {
      const s = await server();
      const options = { publishTimeoutMs: 20_000 };
      const buses = [bus(s, options), bus(s, options)];
      const topic = `repo:restart-${mode}`;
      const subs = await subscribers(buses, topic);
      const { committed, maybe } = await publishThrough(buses, topic, 120, () => s.restart(mode));
      expect(committed.length).toBeGreaterThanOrEqual(120 - maybe.size);
      await settleAll(subs, committed, maybe);
      // The history survived the restart: no subscriber needed a reset.
      for (const sub of subs) expect(sub.resets()).toEqual([]);
    });
  }

  it('pg_terminate_backend of the listening connection: subscribers catch up by SQL, nothing lost', async () => {
    const s = await server();
    const [publisher, subscriberBus] = [bus(s), bus(s)];
    const db = admin(s);
    const topic = 'repo:kill-listen';
    const subs = await subscribers([subscriberBus], topic);
    const { committed, maybe } = await publishThrough([publisher], topic, 80, async () => {
      const { rows } = await db.query(
        "SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE application_name = 'repopulse-bus-postgres listen'",
      );
      expect(rows.length).toBeGreaterThanOrEqual(1);
    });
    expect(maybe.size).toBe(0);
    await settleAll(subs, committed, maybe);
    for (const sub of subs) expect(sub.resets()).toEqual([]);
    // Listening again, once per bus.
    const listening = async () =>
      (
        await db.query(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'repopulse-bus-postgres listen'",
        )
      ).rows[0].n as number;
    expect(await listening()).toBe(2);
  });

  it('pg_terminate_backend of publishing connections: each publish is stored once or rejected, all delivered', async () => {
    const s = await server();
    const buses = [bus(s), bus(s)];
    const db = admin(s);
    const topic = 'repo:kill-publish';
    const subs = await subscribers(buses, topic);
    const kill = async () => {
      for (let round = 0; round < 3; round++) {
        await db.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'repopulse-bus-postgres'",
        );
        await settle(30);
      }
    };
    const { committed, maybe } = await publishThrough(buses, topic, 120, kill);
    await settleAll(subs, committed, maybe);
    // A publish whose connection died mid-statement was retried; by event id it is stored once.
    const { rows } = await db.query(
      'SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS ids FROM repopulse.events',
    );
    expect(rows[0].n).toBe(rows[0].ids);
  });

  it('a long transaction holding an earlier publish: later publishes wait, all delivered in commit order', async () => {
    const s = await server();
    const buses = [bus(s), bus(s)];
    const db = admin(s);
    const topic = 'repo:long';
    const subs = await subscribers(buses, topic);
    const holder = await db.connect();
    cleanup.unshift(async () => holder.release());
    await holder.query('BEGIN');
    const held = await buses[0]!.publish(topic, numbered(0), { client: holder });
    const later = Array.from({ length: 10 }, (_, i) => buses[i % 2]!.publish(topic, numbered(i + 1)));
    // Another topic is not held up.
    await buses[1]!.publish('repo:other', numbered(100));
    await settle(300);
    for (const sub of subs) expect(sub.deliveries).toEqual([]);
    await holder.query('COMMIT');
    const results = await Promise.all(later);
    const committed = [held, ...results].map((r) => ({ position: r.position, id: r.event.id }));
    for (const r of results) expect(comparePositions(r.position, held.position)).toBeGreaterThan(0);
    await settleAll(subs, committed, new Set());
    for (const sub of subs) expect(sub.events()[0]!.position).toBe(held.position);
  });

  it('8 publishers on 2 buses, random commit delays, 20 % rollbacks: every committed event once, in order, none rolled back', async () => {
    const s = await server();
    const buses = [bus(s), bus(s)];
    const db = admin(s);
    const topic = 'repo:random';
    const subs = await subscribers(buses, topic);
    const random = prng(17);
    const committed: Committed[] = [];
    const rolledBack = new Set<string>();
    await Promise.all(
      Array.from({ length: 8 }, async (_, publisher) => {
        const client = await db.connect();
        try {
          for (let i = 0; i < 12; i++) {
            await client.query('BEGIN');
            const result = await buses[publisher % 2]!.publish(topic, numbered(publisher * 100 + i), {
              client,
            });
            await settle(Math.floor(random() * 15));
            if (random() < 0.2) {
              await client.query('ROLLBACK');
              rolledBack.add(result.event.id);
            } else {
              await client.query('COMMIT');
              committed.push({ position: result.position, id: result.event.id });
            }
          }
        } finally {
          client.release();
        }
      }),
    );
    expect(rolledBack.size).toBeGreaterThan(0);
    await settleAll(subs, committed, new Set());
    for (const sub of subs) {
      expect(sub.resets()).toEqual([]);
      expect(sub.events().some((d) => rolledBack.has(d.event.id))).toBe(false);
    }
  });

  it('publishing while Postgres is stopped waits, and is stored once it is back within publishTimeoutMs', async () => {
    const s = await server();
    const b = bus(s, { publishTimeoutMs: 20_000 });
    const topic = 'repo:stopped';
    const sub = await collect(b, topic, { after: '0-0' });
    await b.publish(topic, numbered(0));
    await s.stop('fast');
    const during = Promise.all([1, 2, 3].map((n) => b.publish(topic, numbered(n))));
    await settle(300);
    await s.start();
    const results = await during;
    await sub.waitForEvents(4, 20_000);
    expect(sub.numbers().sort()).toEqual([0, 1, 2, 3]);
    expect(results.every((r) => r.duplicate === undefined)).toBe(true);
  });

  it('publishing while Postgres stays stopped rejects with bus_unavailable after publishTimeoutMs', async () => {
    const s = await server();
    const b = bus(s, { publishTimeoutMs: 500 });
    await b.publish('repo:down', numbered(0));
    await s.stop('immediate');
    await expect(b.publish('repo:down', numbered(1))).rejects.toMatchObject({
      code: 'bus_unavailable',
      message: expect.stringMatching(/^\[repopulse\] could not publish to repo:down/),
    });
  });

  it('the tables emptied behind the bus: subscribers get a history_lost reset, then live', async () => {
    const s = await server();
    const [publisher, subscriberBus] = [bus(s), bus(s)];
    const db = admin(s);
    const topic = 'repo:truncated';
    const sub = await collect(subscriberBus, topic);
    for (let i = 0; i < 5; i++) await publisher.publish(topic, numbered(i));
    await sub.waitForEvents(5, 5000);
    await db.query('TRUNCATE repopulse.events, repopulse.topics');
    const first = await publisher.publish(topic, numbered(5));
    await sub.waitForReset(10_000);
    expect(sub.resets()).toEqual([{ reset: true, position: first.position, reason: 'history_lost' }]);
    const next = await publisher.publish(topic, numbered(6));
    await sub.waitForEvents(6, 5000);
    expect(sub.events().at(-1)!.position).toBe(next.position);
  });
});
