import { collect, numbered, numberOf, settle } from '@repopulse/bus-contract';
import type { AnyEnvelope } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { afterEach, expect, it } from 'vitest';
import type { PostgresBus } from '../src/index';
import { describeWithPostgres, useBusSchema } from './postgres-support';

describeWithPostgres('bus-postgres: publish inside the caller transaction', () => {
  const db = useBusSchema('bus_tx');
  const open: PostgresBus[] = [];
  const bus = () => {
    const made = db.bus();
    open.push(made);
    return made;
  };
  let topicCount = 0;
  const topic = () => `tx:${Date.now().toString(36)}:${topicCount++}`;
  afterEach(async () => {
    await Promise.all(open.splice(0).map((b) => b.close()));
  });

  it('is delivered at COMMIT (to every bus), at the position publish returned', async () => {
    const [publisher, other] = [bus(), bus()];
    const t = topic();
    const here = await collect(publisher, t);
    const there = await collect(other, t, { after: '0-0' });
    const client = await db.schema().pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('CREATE TEMP TABLE IF NOT EXISTS task (status text)');
      await client.query("INSERT INTO task VALUES ('running')");
      const published = await publisher.publish(t, numbered(1), { client });
      await settle(150);
      expect(here.deliveries).toEqual([]);
      expect(there.deliveries).toEqual([]);
      expect(await other.head(t)).toBe('0-0');
      await client.query('COMMIT');
      await here.waitForEvents(1, 5000);
      await there.waitForEvents(1, 5000);
      for (const sub of [here, there]) expect(sub.events()).toEqual([published]);
      expect(await other.head(t)).toBe(published.position);
    } finally {
      client.release();
    }
  });

  it('is never delivered after ROLLBACK; the next publish follows the last committed one', async () => {
    const b = bus();
    const t = topic();
    const first = await b.publish(t, numbered(1));
    const sub = await collect(b, t, { after: first.position });
    const client = await db.schema().pool.connect();
    try {
      await client.query('BEGIN');
      const undone = await b.publish(t, numbered(2), { client });
      await client.query('ROLLBACK');
      const next = await b.publish(t, numbered(3));
      expect(comparePositions(next.position, first.position)).toBeGreaterThan(0);
      await sub.waitForEvents(1, 5000);
      await settle(150);
      expect(sub.numbers()).toEqual([3]);
      // The rolled-back event's id was never stored: publishing it again stores it.
      expect((await b.publish(t, undone.event)).duplicate).toBeUndefined();
    } finally {
      client.release();
    }
  });

  it('positions follow commit order: a publish waits while an earlier open transaction holds the topic', async () => {
    const b = bus();
    const t = topic();
    const sub = await collect(b, t, { after: '0-0' });
    const holder = await db.schema().pool.connect();
    try {
      await holder.query('BEGIN');
      const held = await b.publish(t, numbered(1), { client: holder });
      const order: string[] = [];
      // Two publishes through the pool and one on another topic, while the first transaction is open.
      const later = [b.publish(t, numbered(2)), b.publish(t, numbered(3))].map((p) =>
        p.then((r) => {
          order.push(`later ${numberOf(r.event as AnyEnvelope)}`);
          return r;
        }),
      );
      const elsewhere = await b.publish(topic(), numbered(9));
      expect(elsewhere.duplicate).toBeUndefined();
      await settle(200);
      expect(order).toEqual([]); // still waiting for the head row
      expect(sub.deliveries).toEqual([]);
      await holder.query('COMMIT');
      const results = await Promise.all(later);
      expect(comparePositions(results[0]!.position, held.position)).toBeGreaterThan(0);
      expect(comparePositions(results[1]!.position, results[0]!.position)).toBeGreaterThan(0);
      await sub.waitForEvents(3, 5000);
      expect(sub.events().map((d) => d.position)).toEqual([held.position, ...results.map((r) => r.position)]);
      expect(sub.numbers()).toEqual([1, 2, 3]);
    } finally {
      holder.release();
    }
  });

  it('interleaved transactions: each gets its position when it takes the topic, all delivered in commit order', async () => {
    const b = bus();
    const t = topic();
    const sub = await collect(b, t, { after: '0-0' });
    const clients = await Promise.all([0, 1, 2, 3].map(() => db.schema().pool.connect()));
    try {
      for (const client of clients) await client.query('BEGIN');
      // Transaction 0 takes the topic first; the others queue behind it in the order they ask.
      const first = await b.publish(t, numbered(0), { client: clients[0]! });
      const waiting = clients.slice(1).map((client, i) => b.publish(t, numbered(i + 1), { client }));
      await settle(100);
      await clients[0]!.query('COMMIT');
      // The next one to hold the topic rolls back; the others commit, each when it got its position.
      const results = [first];
      const committed = [0];
      const pending = new Map(waiting.map((p, i) => [i + 1, p.then((r) => [i + 1, r] as const)]));
      for (let turn = 0; pending.size > 0; turn++) {
        const [index, result] = await Promise.race(pending.values());
        pending.delete(index);
        await clients[index]!.query(turn === 0 ? 'ROLLBACK' : 'COMMIT');
        if (turn > 0) {
          results.push(result);
          committed.push(index);
        }
      }
      await sub.waitForEvents(3, 5000);
      await settle(100);
      expect(sub.events().map((d) => d.position)).toEqual(results.map((r) => r.position));
      expect(sub.numbers()).toEqual(committed);
      const sorted = [...results].sort((x, y) => comparePositions(x.position, y.position));
      expect(sorted).toEqual(results);
    } finally {
      for (const client of clients) client.release();
    }
  });

  it('a publish that waits longer than publishTimeoutMs for a topic held by a transaction rejects, storing nothing', async () => {
    const b = db.bus({ publishTimeoutMs: 1000 });
    open.push(b);
    const t = topic();
    const holder = await db.schema().pool.connect();
    try {
      await holder.query('BEGIN');
      const held = await b.publish(t, numbered(1), { client: holder });
      await expect(b.publish(t, numbered(2))).rejects.toMatchObject({
        code: 'bus_unavailable',
        message: expect.stringContaining('another transaction held the topic'),
      });
      await holder.query('COMMIT');
      expect(await b.head(t)).toBe(held.position);
    } finally {
      holder.release();
    }
  });

  it('dropTopic inside a transaction resets subscribers at COMMIT', async () => {
    const b = bus();
    const t = topic();
    await b.publish(t, numbered(1));
    const sub = await collect(b, t, { after: '0-0' });
    await sub.waitForEvents(1, 5000);
    const client = await db.schema().pool.connect();
    try {
      await client.query('BEGIN');
      await b.dropTopic(t, { client });
      await settle(150);
      expect(sub.resets()).toEqual([]);
      await client.query('COMMIT');
      await sub.waitForReset(5000);
      expect(sub.resets()).toEqual([{ reset: true, position: await b.head(t), reason: 'history_lost' }]);
    } finally {
      client.release();
    }
  });

  it('rejects bad publish options with OptionsError and stores nothing', async () => {
    const b = bus();
    const t = topic();
    const event = numbered(1);
    await expect(b.publish(t, event, { client: {} as never })).rejects.toMatchObject({
      code: 'invalid_option',
    });
    await expect(b.publish(t, event, { client: undefined as never })).rejects.toMatchObject({
      code: 'missing_option',
    });
    await expect(b.publish(t, event, { clinet: 1 } as never)).rejects.toMatchObject({
      code: 'unknown_option',
    });
    expect(await b.head(t)).toBe('0-0');
  });
});
