import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, type EventBus, EventValidationError } from '@repopulse/events-core';
import {
  createTestSchema,
  deferred,
  postgresMissing,
  requirement,
  type TestSchema,
} from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createOutbox, type OutboxError } from '../src/index';
import { createPostgresStore } from '../src/postgres/index';
import { replayTopic, until } from './helpers/collect';
import {
  commitOrderViolations,
  createTasks,
  type TimedCommit,
  timed,
  updateTask,
} from './helpers/postgres-app';

const mode = requirement('outbox', await postgresMissing(), 'the Postgres outbox tests');

const cleanups = cleanupAfterEach();

async function schema(): Promise<TestSchema> {
  const made = await createTestSchema('outbox');
  cleanups.push(() => made.drop());
  await createTasks(made.pool);
  return made;
}

/** One app process: its own pool on the schema, its outbox, on the given bus. */
async function processOn(
  db: TestSchema,
  bus: EventBus,
  errors: OutboxError[] = [],
  keepDeliveredMs = 60_000,
) {
  const pool = new pg.Pool({ connectionString: db.url, options: `-c search_path="${db.name}"`, max: 6 });
  pool.on('error', () => {});
  const outbox = createOutbox({
    store: await createPostgresStore({ pool }),
    bus,
    keepDeliveredMs,
    onError: (e) => errors.push(e),
  });
  cleanups.push(
    () => pool.end(),
    () => outbox.close(),
  );
  return { pool, outbox };
}

describe.skipIf(mode === 'skip')('the Postgres store', () => {
  it('publishes at commit (in the relaying process, and from another one through NOTIFY), never a rolled-back event', async () => {
    const db = await schema();
    const bus = createMemoryBus();
    const { pool, outbox } = await processOn(db, bus);
    await until(async () => (await outbox.stats()).relaying, 10_000, 'the lease');
    const seen: string[] = [];
    await bus.subscribe('repo:1', (d) => {
      if (!d.reset) seen.push(d.event.id);
    });
    await updateTask(pool, outbox, 'repo:1', 1, { rollback: true });
    const committed = await updateTask(pool, outbox, 'repo:1', 2);
    // The sweep runs every 5 s: this delivery was woken by the commit.
    await until(() => seen.length === 1, 2_000, 'the commit wake-up');
    expect(seen).toEqual([committed]);
    // A process that does not relay: its commit is announced to the relaying one (NOTIFY after it).
    const writer = new pg.Pool({ connectionString: db.url, options: `-c search_path="${db.name}"`, max: 2 });
    const writerOutbox = createOutbox({
      store: await createPostgresStore({ pool: writer }),
      bus,
      relay: false,
    });
    cleanups.push(() => writer.end());
    const fromWriter = await updateTask(writer, writerOutbox, 'repo:1', 3);
    await until(() => seen.length === 2, 2_000, 'the NOTIFY wake-up');
    expect(seen).toEqual([committed, fromWriter]);
    await outbox.drained();
    expect((await replayTopic(bus, 'repo:1')).map((e) => e.event.id)).toEqual([committed, fromWriter]);
  });

  it('checks its options', async () => {
    const db = await schema();
    await expect(createPostgresStore({ pool: db.pool, tabel: 'x' } as never)).rejects.toMatchObject({
      code: 'unknown_option',
      option: 'tabel',
    });
    await expect(createPostgresStore({} as never)).rejects.toMatchObject({
      code: 'missing_option',
      option: 'pool',
    });
    await expect(createPostgresStore({ pool: db.pool, table: 'a.b.c' })).rejects.toMatchObject({
      code: 'invalid_option',
      option: 'table',
    });
    const store = await createPostgresStore({ pool: db.pool, table: `${db.name}.my_outbox` });
    expect(typeof store.write).toBe('function');
    const tables = await db.pool.query(
      "SELECT count(*)::int AS n FROM information_schema.tables WHERE table_name = 'my_outbox'",
    );
    expect(tables.rows[0].n).toBe(1);
  });

  it('refuses an invalid event at enqueue, so the transaction rolls back with nothing written', async () => {
    const db = await schema();
    const { pool, outbox } = await processOn(db, createMemoryBus());
    const client = await pool.connect();
    await client.query('BEGIN');
    await client.query("INSERT INTO tasks VALUES (1, 'running')");
    const bad = { ...createEvent('repo.created', { name: 'x' }), ts: -1 };
    expect(() => outbox.enqueue(client, 'repo:1', bad)).toThrow(EventValidationError);
    await client.query('ROLLBACK');
    client.release();
    const counts = await db.pool.query(
      'SELECT (SELECT count(*)::int FROM tasks) AS tasks, (SELECT count(*)::int FROM repopulse_outbox) AS rows',
    );
    expect(counts.rows[0]).toEqual({ tasks: 0, rows: 0 });
  });

  it('orders a topic by commit: a second transaction enqueueing to it waits for the first to commit; other topics do not wait', async () => {
    const db = await schema();
    const bus = createMemoryBus();
    const { pool, outbox } = await processOn(db, bus);
    const { promise: firstHeld, resolve: releaseFirst } = deferred();
    const { promise: enqueued, resolve: firstEnqueued } = deferred();
    const first = updateTask(pool, outbox, 'repo:1', 1, {
      beforeCommit: async () => {
        firstEnqueued();
        await firstHeld;
      },
    });
    await enqueued;
    let secondDone = false;
    const second = updateTask(pool, outbox, 'repo:1', 2).then((id) => {
      secondDone = true;
      return id;
    });
    const otherTopic = await updateTask(pool, outbox, 'repo:2', 3); // not blocked by repo:1
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);
    releaseFirst();
    const ids = [await first, await second];
    await outbox.drained();
    expect((await replayTopic(bus, 'repo:1')).map((e) => e.event.id)).toEqual(ids);
    expect((await replayTopic(bus, 'repo:2')).map((e) => e.event.id)).toEqual([otherTopic]);
  });

  it('keeps commit order per topic under many concurrent transactions', async () => {
    const db = await schema();
    const bus = createMemoryBus({ historyLimit: 10_000 });
    const { pool, outbox } = await processOn(db, bus);
    const commits = new Map<string, TimedCommit[]>();
    await Promise.all(
      Array.from({ length: 6 }, async (_, worker) => {
        for (let i = 0; i < 40; i++) {
          const topic = `repo:${i % 3}`;
          const commit = await timed(() =>
            updateTask(pool, outbox, topic, worker * 1000 + i, {
              beforeCommit: () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3)),
            }),
          );
          commits.set(topic, [...(commits.get(topic) ?? []), commit]);
        }
      }),
    );
    await outbox.drained();
    for (const [topic, list] of commits) {
      const delivered = (await replayTopic(bus, topic)).map((e) => e.event.id);
      expect(delivered.slice().sort()).toEqual(list.map((c) => c.id).sort());
      expect(commitOrderViolations(list, delivered)).toEqual([]);
    }
  });

  it('two relays racing on one database: one relays at a time; when its session dies the other takes over, no duplicate, no reorder', async () => {
    const db = await schema();
    const bus = createMemoryBus({ historyLimit: 100_000 });
    const a = await processOn(db, bus);
    const b = await processOn(db, bus);
    const leading = async () => [(await a.outbox.stats()).relaying, (await b.outbox.stats()).relaying];
    await until(async () => (await leading()).includes(true), 10_000, 'a leader');
    expect((await leading()).sort()).toEqual([false, true]);
    const standby = (await a.outbox.stats()).relaying ? b : a;
    const commits: TimedCommit[] = [];
    const writers = [a, b].map(async (proc, w) => {
      for (let i = 0; i < 300; i++) {
        commits.push(await timed(() => updateTask(proc.pool, proc.outbox, 'repo:1', w * 1000 + i)));
      }
    });
    await until(() => commits.length >= 150, 20_000, 'some commits');
    // The leader's lease connection dies (as when its process is killed): the server frees its lock.
    const killed = await db.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
         AND classid = x'72706f62'::bigint::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
         AND objid = 'repopulse_outbox'::regclass::oid`,
    );
    expect(killed.rowCount).toBe(1);
    await until(async () => (await standby.outbox.stats()).relaying, 10_000, 'the takeover');
    await Promise.all(writers);
    await standby.outbox.drained();
    const delivered = (await replayTopic(bus, 'repo:1')).map((e) => e.event.id);
    expect(delivered.slice().sort()).toEqual(commits.map((c) => c.id).sort()); // each once
    expect(commitOrderViolations(commits, delivered)).toEqual([]);
    const rows = await db.pool.query('SELECT event_id FROM repopulse_outbox ORDER BY id');
    expect(delivered).toEqual(rows.rows.map((r) => r.event_id)); // exactly the table's (commit) order
  });

  it('a standby that closes while waiting for the lease gives its connection back', async () => {
    const db = await schema();
    const bus = createMemoryBus();
    const a = await processOn(db, bus);
    await until(async () => (await a.outbox.stats()).relaying, 10_000, 'a leader');
    const pool = new pg.Pool({ connectionString: db.url, options: `-c search_path="${db.name}"`, max: 2 });
    pool.on('error', () => {});
    const standby = createOutbox({ store: await createPostgresStore({ pool }), bus });
    await until(() => pool.totalCount === 1 && pool.idleCount === 0, 10_000, 'the standby waiting');
    expect((await standby.stats()).relaying).toBe(false);
    await standby.close();
    await pool.end(); // would wait forever for a connection still blocked in pg_advisory_lock
    expect(pool.totalCount).toBe(0);
  });
});
