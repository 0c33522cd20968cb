import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { createTestSchema, postgresMissing, requirement, type TestSchema } from '@repopulse/test-support';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createOutbox } from '../src/index';
import { createPostgresStore } from '../src/postgres/index';
import { replayTopic, until } from './helpers/collect';

const mode = requirement('outbox', await postgresMissing(), 'the Postgres relay statement tests');

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A pool on a schema of its own that counts the relay's read-and-mark statements. */
async function countingPool(): Promise<{ db: TestSchema; pool: pg.Pool; relayStatements: () => number }> {
  const db = await createTestSchema('outbox_relay');
  cleanups.push(() => db.drop());
  const pool = new pg.Pool({ connectionString: db.url, options: `-c search_path="${db.name}"`, max: 4 });
  pool.on('error', () => {});
  cleanups.push(() => pool.end());
  let count = 0;
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    if (String((args[0] as { name?: string } | undefined)?.name ?? '').endsWith('_relay')) count++;
    return query(...args);
  };
  return { db, pool, relayStatements: () => count };
}

const TOPICS = Array.from({ length: 20 }, (_, i) => `repo:${i}`);

describe.skipIf(mode === 'skip')('the Postgres relay statements', () => {
  it('reads every topic a commit woke in one statement, and marks the rows with a later one', async () => {
    const { db, pool, relayStatements } = await countingPool();
    const bus = createMemoryBus();
    const outbox = createOutbox({ store: await createPostgresStore({ pool }), bus });
    cleanups.push(() => outbox.close());
    await until(async () => (await outbox.stats()).relaying, 10_000, 'the lease');
    await outbox.drained();
    const before = relayStatements();
    const client = await pool.connect();
    const events = TOPICS.map((topic) => createEvent('repo.created', { name: topic }));
    try {
      await client.query('BEGIN');
      await outbox.enqueueMany(
        client,
        TOPICS.map((topic, i) => ({ topic, event: events[i] as (typeof events)[number] })),
      );
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    await until(async () => (await outbox.stats()).delivered === TOPICS.length, 5_000, 'the deliveries');
    await outbox.drained();
    // One read of the 20 topics, then one statement deleting their rows: 40 statements one by one.
    expect(relayStatements() - before).toBeLessThanOrEqual(3);
    for (const [i, topic] of TOPICS.entries()) {
      expect((await replayTopic(bus, topic)).map((e) => e.event.id)).toEqual([events[i]?.id]);
    }
    const left = await db.pool.query('SELECT count(*)::int AS n FROM repopulse_outbox');
    expect(left.rows[0].n).toBe(0);
  });

  it('writes the marks it still holds before it gives the lease up, and reads past them meanwhile', async () => {
    const { db, pool } = await countingPool();
    const bus = createMemoryBus({ historyLimit: 10_000 });
    const outbox = createOutbox({
      store: await createPostgresStore({ pool }),
      bus,
      keepDeliveredMs: 600_000,
    });
    await until(async () => (await outbox.stats()).relaying, 10_000, 'the lease');
    const ids: string[] = [];
    for (let i = 0; i < 200; i++) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const event = await outbox.enqueue(
          client,
          'repo:1',
          createEvent('task.progress', { phase: 'p', percent: i % 100 }),
        );
        ids.push(event.id);
        await client.query('COMMIT');
      } finally {
        client.release();
      }
    }
    await until(async () => (await outbox.stats()).delivered === ids.length, 10_000, 'the deliveries');
    await outbox.close(); // at once: the last marks are still queued
    const rows = await db.pool.query(
      'SELECT count(*) FILTER (WHERE delivered_at IS NULL)::int AS pending, count(*)::int AS n FROM repopulse_outbox',
    );
    expect(rows.rows[0]).toEqual({ pending: 0, n: ids.length });
    expect((await replayTopic(bus, 'repo:1')).map((e) => e.event.id)).toEqual(ids); // each once, in order
  });
});
