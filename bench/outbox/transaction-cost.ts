import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBus } from '@repopulse/bus-memory';
import {
  aggregateRepositoryStatus,
  createEvent,
  type TaskStatus,
  type TaskStatusChangedPayload,
} from '@repopulse/events-core';
import { createOutbox } from '@repopulse/outbox';
import { createPostgresStore } from '@repopulse/outbox/postgres';
import { createTestSchema, postgresMissing } from '@repopulse/test-support';
import type { PoolClient } from 'pg';
import { median } from '../markdown';
import { referenceAppTasks, TASK_CYCLE, TASKS_PER_REPOSITORY } from './reference-app-tasks';

/** Transactions per second of each round, for the plain update and the update with `enqueue`. */
export interface TransactionCost {
  plain: number[];
  enqueue: number[];
}

/** Times `n` calls of `once`, the relay (if any) drained afterwards, unmeasured. */
async function timed(n: number, once: (i: number) => void | Promise<void>, settle?: () => Promise<void>) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await once(i);
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await settle?.();
  return n / seconds;
}

/**
 * The reference app's task-update transaction on its own SQLite schema (WAL; `synchronous` NORMAL as
 * the app runs it, or FULL, SQLite's default): `TaskService.setStatus` with its repository
 * recompute (see {@link referenceAppTasks}), on one database without any event and on another
 * with the app's outbox enqueueing each event (a fresh `createEvent`). Rounds interleaved; the relay
 * runs (to the memory bus) between the measured loops, which never yield.
 */
export async function sqliteTransactionCost(
  ops: number,
  rounds: number,
  synchronous: 'NORMAL' | 'FULL',
): Promise<TransactionCost> {
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-bench-outbox-'));
  const bus = createMemoryBus();
  const plain = referenceAppTasks(join(dir, 'plain'), undefined);
  const withEvents = referenceAppTasks(join(dir, 'outbox'), bus);
  for (const app of [plain, withEvents]) app.db.pragma(`synchronous = ${synchronous}`);
  const result: TransactionCost = { plain: [], enqueue: [] };
  try {
    for (let round = 0; round <= rounds; round++) {
      const a = await timed(ops, () => plain.update());
      const b = await timed(
        ops,
        () => withEvents.update(),
        () => (withEvents.outbox as NonNullable<typeof withEvents.outbox>).drained(120_000),
      );
      if (round > 0) {
        result.plain.push(a);
        result.enqueue.push(b);
      }
    }
  } finally {
    await withEvents.outbox?.close();
    await bus.close();
    plain.db.close();
    withEvents.db.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return result;
}

/**
 * The same transaction on Postgres, as the reference app's `TaskService.setStatus` would run it there
 * (the app's tables and indexes): `BEGIN`, read the task and its repository, update the task row,
 * [enqueue `task.status_changed`], read the repository and its tasks, and on a status change update
 * it [and enqueue `repo.status_changed` on its topic and the two list topics, in one `enqueueMany` as
 * the app does], read the task back,
 * `COMMIT`; every event a fresh `createEvent`. `workers` pooled clients at once, each updating its
 * own repository's tasks (the list topics are shared, as in the app). Undefined when Postgres is not
 * reachable.
 */
export async function postgresTransactionCost(
  ops: number,
  rounds: number,
  workers: number,
): Promise<TransactionCost | undefined> {
  if (await postgresMissing()) return undefined;
  const schema = await createTestSchema('bench_outbox');
  const { pool } = schema;
  await pool.query(`
    CREATE TABLE repositories (
      id int PRIMARY KEY, name text NOT NULL, url text NOT NULL, status text NOT NULL, error_msg text,
      owner text NOT NULL, topic_nonce text NOT NULL, instance_id text,
      created_at bigint NOT NULL, updated_at bigint NOT NULL);
    CREATE TABLE tasks (
      id int PRIMARY KEY, repo_id int NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
      kind text NOT NULL, title text NOT NULL, ord int NOT NULL, status text NOT NULL, error_msg text,
      phase text, percent int NOT NULL DEFAULT 0, instance_id text, started_at bigint,
      completed_at bigint, updated_at bigint NOT NULL);
    CREATE INDEX tasks_repo ON tasks (repo_id, ord);
    CREATE INDEX tasks_status ON tasks (status);`);
  await pool.query(`
    INSERT INTO repositories SELECT g, 'repo' || g, 'https://example.com/r.git', 'ready', NULL, 'alice',
      'n' || g, NULL, 0, 0 FROM generate_series(0, ${workers - 1}) g;
    INSERT INTO tasks (id, repo_id, kind, title, ord, status, updated_at)
      SELECT g, g / ${TASKS_PER_REPOSITORY}, 'overview', 'Task', g % ${TASKS_PER_REPOSITORY}, 'pending', 0
      FROM generate_series(0, ${workers * TASKS_PER_REPOSITORY - 1}) g;`);
  const bus = createMemoryBus();
  const outbox = createOutbox({ store: await createPostgresStore({ pool }), bus });
  const updates = Array.from({ length: workers }, () => 0); // per worker, across both variants
  const setStatus = async (client: PoolClient, w: number, withEvents: boolean) => {
    const step = updates[w] as number;
    updates[w] = step + 1;
    const taskId = w * TASKS_PER_REPOSITORY + (step % TASKS_PER_REPOSITORY);
    const to = TASK_CYCLE[Math.floor(step / TASKS_PER_REPOSITORY) % TASK_CYCLE.length] as TaskStatus;
    await client.query('BEGIN');
    const task = (await client.query('SELECT * FROM tasks WHERE id = $1', [taskId])).rows[0];
    const repo = (await client.query('SELECT * FROM repositories WHERE id = $1', [w])).rows[0];
    const now = Date.now();
    const started = to === 'running' ? now : to === 'pending' ? null : task.started_at;
    const completed = to === 'completed' ? now : null;
    await client.query(
      `UPDATE tasks SET status = $1, error_msg = NULL, started_at = $2, completed_at = $3, phase = NULL,
       percent = $4, instance_id = $5, updated_at = $6 WHERE id = $7`,
      [to, started, completed, to === 'completed' ? 100 : 0, to === 'pending' ? null : 'bench', now, taskId],
    );
    const topic = `repo:${w}.${repo.topic_nonce}`;
    if (withEvents) {
      const payload: TaskStatusChangedPayload = { from: task.status, to };
      if (started !== null) payload.started_at = Number(started);
      if (completed !== null) payload.completed_at = completed;
      await outbox.enqueue(
        client,
        topic,
        createEvent('task.status_changed', payload, { repo_id: w, task_id: taskId }),
      );
    }
    const current = (await client.query('SELECT * FROM repositories WHERE id = $1', [w])).rows[0];
    const tasks = (await client.query('SELECT * FROM tasks WHERE repo_id = $1', [w])).rows;
    const repoTo = aggregateRepositoryStatus(current.status, tasks);
    if (repoTo !== current.status) {
      await client.query(
        'UPDATE repositories SET status = $1, error_msg = NULL, updated_at = $2 WHERE id = $3',
        [repoTo, now, w],
      );
      if (withEvents) {
        const event = createEvent(
          'repo.status_changed',
          { from: current.status, to: repoTo },
          { repo_id: w },
        );
        // As the app's `enqueueEnvelope` does: one call for the repository's topic and the list topics.
        await outbox.enqueueMany(
          client,
          [topic, 'repos.bench', 'repos.bench:user:alice'].map((t) => ({ topic: t, event })),
        );
      }
    }
    await client.query('SELECT * FROM tasks WHERE id = $1', [taskId]);
    await client.query('COMMIT');
  };
  const run = async (withEvents: boolean) => {
    const each = Math.ceil(ops / workers);
    const start = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: workers }, async (_, w) => {
        const client = await pool.connect();
        try {
          for (let i = 0; i < each; i++) await setStatus(client, w, withEvents);
        } finally {
          client.release();
        }
      }),
    );
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (withEvents) await outbox.drained(120_000);
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
