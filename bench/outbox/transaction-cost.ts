import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { createOutbox } from '@repopulse/outbox';
import { createPostgresStore } from '@repopulse/outbox/postgres';
import { createSqliteStore } from '@repopulse/outbox/sqlite';
import { createTestSchema, postgresMissing } from '@repopulse/test-support';
import Database from 'better-sqlite3';
import { median } from '../markdown';

/** Transactions per second of each round, for the plain update and the update with `enqueue`. */
export interface TransactionCost {
  plain: number[];
  enqueue: number[];
}

const taskEvent = (i: number) =>
  createEvent('task.status_changed', { from: 'running', to: 'completed' }, { repo_id: 1, task_id: i % 100 });

/** Times `n` calls of `once`, the relay (if any) drained afterwards, unmeasured. */
async function timed(n: number, once: (i: number) => void | Promise<void>, settle?: () => Promise<void>) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await settle?.();
  return n / seconds;
}

/**
 * A task-update transaction on SQLite (WAL, `synchronous` NORMAL as the reference app runs it, or
 * FULL, SQLite's default):
 * `UPDATE tasks` alone, and the same with `outbox.enqueue` of a fresh `createEvent`. Rounds
 * interleaved; the relay runs (to the memory bus) between the measured loops.
 */
export async function sqliteTransactionCost(
  ops: number,
  rounds: number,
  synchronous: 'NORMAL' | 'FULL',
): Promise<TransactionCost> {
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-outbox-'));
  const db = new Database(join(dir, 'app.db'));
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE tasks (id INTEGER PRIMARY KEY, status TEXT NOT NULL, updated_at INTEGER)');
  const insert = db.prepare('INSERT INTO tasks (id, status) VALUES (?, ?)');
  for (let i = 0; i < 100; i++) insert.run(i, 'running');
  const update = db.prepare('UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?');
  const status = (i: number) => (Math.floor(i / 100) % 2 ? 'completed' : 'running');
  const bus = createMemoryBus();
  const outbox = createOutbox({ store: createSqliteStore(db), bus });
  const plain = db.transaction((i: number) => {
    update.run(status(i), Date.now(), i % 100);
  });
  const withEvent = db.transaction((i: number) => {
    update.run(status(i), Date.now(), i % 100);
    outbox.enqueue(db, 'repo:1', taskEvent(i));
  });
  const result: TransactionCost = { plain: [], enqueue: [] };
  try {
    for (let round = 0; round <= rounds; round++) {
      const a = await timed(ops, (i) => plain(i));
      const b = await timed(
        ops,
        (i) => withEvent(i),
        () => outbox.drained(120_000),
      );
      if (round > 0) {
        result.plain.push(a);
        result.enqueue.push(b);
      }
    }
  } finally {
    await outbox.close();
    await bus.close();
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/**
 * The same transaction on Postgres (`BEGIN; UPDATE; [enqueue;] COMMIT` on a pooled client), with
 * `workers` transactions running at once, each on its own repository's topic. Undefined when
 * Postgres is not reachable.
 */
export async function postgresTransactionCost(
  ops: number,
  rounds: number,
  workers: number,
): Promise<TransactionCost | undefined> {
  if (await postgresMissing()) return undefined;
  const schema = await createTestSchema('bench_outbox');
  const { pool } = schema;
  await pool.query('CREATE TABLE tasks (id int PRIMARY KEY, status text NOT NULL)');
  await pool.query(`INSERT INTO tasks SELECT g, 'running' FROM generate_series(0, ${workers - 1}) g`);
  const bus = createMemoryBus();
  const outbox = createOutbox({ store: await createPostgresStore({ pool }), bus });
  const run = async (withEvent: boolean) => {
    const each = Math.ceil(ops / workers);
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const client = await pool.connect();
        try {
          for (let i = 0; i < each; i++) {
            await client.query('BEGIN');
            await client.query('UPDATE tasks SET status = $1 WHERE id = $2', [
              i % 2 ? 'completed' : 'running',
              w,
            ]);
            if (withEvent) await outbox.enqueue(client, `repo:${w}`, taskEvent(i));
            await client.query('COMMIT');
          }
        } finally {
          client.release();
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (withEvent) await outbox.drained(120_000);
    return (each * workers) / seconds;
  };
  const result: TransactionCost = { plain: [], enqueue: [] };
  try {
    for (let round = 0; round <= rounds; round++) {
      const a = await run(false);
      const b = await run(true);
      if (round > 0) {
        result.plain.push(a);
        result.enqueue.push(b);
      }
    }
  } finally {
    await outbox.close();
    await bus.close();
    await schema.drop();
  }
  return result;
}

/** Time per transaction with `enqueue` over time without: the median over rounds of each. */
export function costRatio(cost: TransactionCost): number {
  return median(cost.plain) / median(cost.enqueue);
}
