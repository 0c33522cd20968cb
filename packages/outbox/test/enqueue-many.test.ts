import { createMemoryBus } from '@repopulse/bus-memory';
import { BusError, createEvent, type EventBus, EventValidationError } from '@repopulse/events-core';
import { createTestSchema, deferred, postgresMissing, requirement } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createOutbox, type OutboxEntry, type OutboxStore } from '../src/index';
import { createPostgresStore, type PgQueryable } from '../src/postgres/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic } from './helpers/collect';
import {
  commitOrderViolations,
  createTasks,
  inTaskTransaction,
  type TimedCommit,
  timed,
} from './helpers/postgres-app';
import { sqliteFile } from './helpers/sqlite-file';

const mode = requirement('outbox', await postgresMissing(), 'the Postgres enqueueMany tests');

const cleanups = cleanupAfterEach();

const statusChanged = (repo: number, to: 'analyzing' | 'ready') =>
  createEvent('repo.status_changed', { from: 'ready', to }, { repo_id: repo });
const ids = async (bus: EventBus, topic: string) => (await replayTopic(bus, topic)).map((e) => e.event.id);

describe('enqueueMany on SQLite', () => {
  function setup() {
    const file = sqliteFile();
    const bus = createMemoryBus();
    const outbox = createOutbox({ store: createSqliteStore(file.db), bus });
    cleanups.push(
      file.remove,
      () => bus.close(),
      () => outbox.close(),
    );
    return { ...file, bus, outbox };
  }

  it('writes every entry in the transaction, per topic in array order, and returns the envelopes', async () => {
    const { db, bus, outbox } = setup();
    const shared = statusChanged(1, 'analyzing');
    const log = createEvent('log.append', { level: 'info', message: 'two' }, { repo_id: 1 });
    const envelopes = db.transaction(() =>
      outbox.enqueueMany(db, [
        { topic: 'repo:1', event: shared },
        { topic: 'repos', event: shared },
        { topic: 'repo:1', event: log },
      ]),
    )();
    expect(envelopes.map((e) => e.id)).toEqual([shared.id, shared.id, log.id]);
    expect(db.transaction(() => outbox.enqueueMany(db, []))()).toEqual([]);
    await outbox.drained();
    expect(await ids(bus, 'repo:1')).toEqual([shared.id, log.id]);
    expect(await ids(bus, 'repos')).toEqual([shared.id]);
  });

  it('refuses the whole call when one entry is invalid, writing none of them', () => {
    const { db, outbox } = setup();
    const good = statusChanged(1, 'analyzing');
    const bad = { ...good, payload: { to: 'flying' } } as never;
    const attempts: [OutboxEntry[] | unknown, unknown][] = [
      [
        [
          { topic: 'repo:1', event: good },
          { topic: 'repos', event: bad },
        ],
        EventValidationError,
      ],
      [
        [
          { topic: 'repo:1', event: good },
          { topic: 'bad\ntopic', event: good },
        ],
        BusError,
      ],
      [[{ topic: 'repo:1', event: good }, null], expect.objectContaining({ code: 'invalid_entries' })],
      [{ topic: 'repo:1', event: good }, expect.objectContaining({ code: 'invalid_entries' })],
    ];
    for (const [entries, error] of attempts) {
      expect(() => db.transaction(() => outbox.enqueueMany(db, entries as OutboxEntry[]))()).toThrow(
        error as never,
      );
    }
    expect(() => outbox.enqueueMany(db, [{ topic: 'repo:1', event: good }])).toThrow(
      expect.objectContaining({ code: 'not_in_transaction' }),
    );
    expect(db.prepare('SELECT count(*) AS n FROM repopulse_outbox').get()).toEqual({ n: 0 });
  });
});

describe.skipIf(mode === 'skip')('enqueueMany on Postgres', () => {
  async function setup() {
    const db = await createTestSchema('outbox_many');
    cleanups.push(() => db.drop());
    await createTasks(db.pool);
    const bus = createMemoryBus({ historyLimit: 10_000 });
    const pool = new pg.Pool({ connectionString: db.url, options: `-c search_path="${db.name}"`, max: 8 });
    pool.on('error', () => {});
    const outbox = createOutbox({ store: await createPostgresStore({ pool }), bus });
    cleanups.push(
      () => pool.end(),
      () => outbox.close(),
      () => bus.close(),
    );
    return { db, bus, pool, outbox };
  }

  /** One transaction: updates task `id`, then enqueues `entries` in one call; `hold` runs before COMMIT. */
  async function update(
    pool: pg.Pool,
    outbox: Awaited<ReturnType<typeof setup>>['outbox'],
    id: number,
    entries: OutboxEntry[],
    options: {
      hold?: () => Promise<void>;
      rollback?: boolean;
      handle?: (c: pg.PoolClient) => PgQueryable;
    } = {},
  ) {
    const envelopes = await inTaskTransaction(
      pool,
      id,
      (client) => outbox.enqueueMany(options.handle?.(client) ?? client, entries),
      { beforeCommit: options.hold, rollback: options.rollback },
    );
    return envelopes.map((e) => e.id);
  }

  it('writes the entries in one statement, per topic in array order; a rolled-back call is never published', async () => {
    const { pool, bus, outbox } = await setup();
    const shared = statusChanged(1, 'analyzing');
    const log = createEvent('log.append', { level: 'info', message: 'x' }, { repo_id: 1 });
    let statements = 0;
    const counting = (client: pg.PoolClient): PgQueryable =>
      Object.assign(Object.create(client) as pg.PoolClient, {
        query: (...args: Parameters<pg.PoolClient['query']>) => {
          statements++;
          return (client.query as (...a: unknown[]) => unknown)(...args);
        },
      }) as unknown as PgQueryable;
    const entries = [
      { topic: 'repo:1', event: shared },
      { topic: 'repos', event: shared },
      { topic: 'repos:user:alice', event: shared },
      { topic: 'repo:1', event: log },
    ];
    expect(await update(pool, outbox, 1, entries, { handle: counting })).toEqual([
      shared.id,
      shared.id,
      shared.id,
      log.id,
    ]);
    expect(statements).toBe(1);
    const rolledBack = statusChanged(1, 'ready');
    await update(pool, outbox, 2, [{ topic: 'repos', event: rolledBack }], { rollback: true });
    await outbox.drained();
    expect(await ids(bus, 'repo:1')).toEqual([shared.id, log.id]);
    expect(await ids(bus, 'repos')).toEqual([shared.id]);
    expect(await ids(bus, 'repos:user:alice')).toEqual([shared.id]);
  });

  it('refuses the whole call when one entry is invalid, writing none of them', async () => {
    const { db, pool, outbox } = await setup();
    const client = await pool.connect();
    await client.query('BEGIN');
    const good = statusChanged(1, 'analyzing');
    const bad = { ...good, ts: -1 };
    expect(() =>
      outbox.enqueueMany(client, [
        { topic: 'repo:1', event: good },
        { topic: 'repos', event: bad },
      ]),
    ).toThrow(EventValidationError);
    expect(() => outbox.enqueueMany(client, 'repo:1' as never)).toThrow(
      expect.objectContaining({ code: 'invalid_entries' }),
    );
    await client.query('COMMIT');
    client.release();
    const counts = await db.pool.query('SELECT count(*)::int AS n FROM repopulse_outbox');
    expect(counts.rows[0].n).toBe(0);
  });

  it('a second transaction on a shared topic waits for the first to commit, and is published after it', async () => {
    const { pool, bus, outbox } = await setup();
    const { promise: held, resolve: release } = deferred();
    const { promise: firstLocked, resolve: locked } = deferred();
    const a = statusChanged(1, 'analyzing');
    const b = statusChanged(2, 'analyzing');
    const first = update(
      pool,
      outbox,
      1,
      [
        { topic: 'repo:1', event: a },
        { topic: 'repos', event: a },
      ],
      {
        hold: async () => {
          locked();
          await held;
        },
      },
    );
    await firstLocked;
    let secondDone = false;
    const second = update(pool, outbox, 2, [
      { topic: 'repos', event: b },
      { topic: 'repo:2', event: b },
    ]).then((done) => {
      secondDone = true;
      return done;
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(secondDone).toBe(false);
    release();
    await Promise.all([first, second]);
    await outbox.drained();
    expect(await ids(bus, 'repos')).toEqual([a.id, b.id]);
  });

  it('keeps commit order per topic under concurrent transactions, enqueue and enqueueMany mixed', async () => {
    const { pool, bus, outbox } = await setup();
    const topics = ['repo:1', 'repos', 'repos:user:alice'];
    const commits = new Map<string, TimedCommit[]>();
    await Promise.all(
      Array.from({ length: 6 }, async (_, worker) => {
        for (let i = 0; i < 25; i++) {
          const event = statusChanged(worker, i % 2 ? 'ready' : 'analyzing');
          const entries = topics.map((topic) => ({ topic, event }));
          // Half the workers enqueue one topic at a time.
          const commit = await timed(async () => {
            if (worker % 2) {
              const client = await pool.connect();
              try {
                await client.query('BEGIN');
                for (const entry of entries) await outbox.enqueue(client, entry.topic, event);
                await new Promise((resolve) => setTimeout(resolve, Math.random() * 3));
                await client.query('COMMIT');
              } finally {
                client.release();
              }
            } else {
              await update(pool, outbox, worker * 1000 + i, entries, {
                hold: () => new Promise((resolve) => setTimeout(resolve, Math.random() * 3)),
              });
            }
            return event.id;
          });
          for (const topic of topics) commits.set(topic, [...(commits.get(topic) ?? []), commit]);
        }
      }),
    );
    await outbox.drained();
    for (const topic of topics) {
      const list = commits.get(topic) as TimedCommit[];
      const delivered = await ids(bus, topic);
      expect(delivered.slice().sort()).toEqual(list.map((c) => c.id).sort());
      expect(commitOrderViolations(list, delivered)).toEqual([]);
    }
  });

  it('a store wrapped by spreading it with its own write gets every row through that write', async () => {
    const { db, bus } = await setup();
    const pool = new pg.Pool({ connectionString: db.url, options: `-c search_path="${db.name}"`, max: 4 });
    cleanups.push(() => pool.end());
    const postgres = await createPostgresStore({ pool, table: 'wrapped_outbox' });
    const written: string[] = [];
    const store: OutboxStore<PgQueryable, Promise<void>> = {
      ...postgres,
      write: (tx, row) => {
        written.push(row.topic);
        return postgres.write(tx, row);
      },
    };
    const outbox = createOutbox({
      store,
      bus,
      onError: () => {}, // its lease connection's pool ends in the cleanup
    });
    cleanups.push(() => outbox.close());
    const event = statusChanged(4, 'analyzing');
    await update(pool, outbox, 4, [
      { topic: 'repo:4', event },
      { topic: 'repos', event },
    ]);
    expect(written).toEqual(['repo:4', 'repos']);
    await outbox.drained();
    expect(await ids(bus, 'repos')).toEqual([event.id]);
  });

  it('through a handle whose end cannot be watched (a wrapper), the commit is announced by NOTIFY', async () => {
    const { pool, bus, outbox } = await setup();
    const event = statusChanged(3, 'analyzing');
    const wrapper = (client: pg.PoolClient): PgQueryable => ({
      query: (text, values) => client.query(text, values),
    });
    await update(
      pool,
      outbox,
      3,
      [
        { topic: 'repo:3', event },
        { topic: 'repos', event },
      ],
      { handle: wrapper },
    );
    await outbox.drained();
    expect(await ids(bus, 'repo:3')).toEqual([event.id]);
    expect(await ids(bus, 'repos')).toEqual([event.id]);
  });
});
