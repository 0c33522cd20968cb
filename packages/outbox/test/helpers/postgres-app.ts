import { createEvent } from '@repopulse/events-core';
import type pg from 'pg';
import type { Outbox } from '../../src/index';
import type { PgQueryable } from '../../src/postgres/index';

/** Creates the app's `tasks` table through `pool` (in its search path). */
export async function createTasks(pool: pg.Pool): Promise<void> {
  await pool.query('CREATE TABLE IF NOT EXISTS tasks (id int PRIMARY KEY, status text NOT NULL)');
}

/**
 * One task update as an app writes it, in one transaction: the task row, then `enqueue` (its events)
 * on the transaction's client. `beforeCommit` runs between the enqueue and the COMMIT (to hold the
 * transaction open); `rollback` ends it with ROLLBACK instead. Resolves with what `enqueue` gave.
 */
export async function inTaskTransaction<T>(
  pool: pg.Pool,
  id: number,
  enqueue: (client: pg.PoolClient) => Promise<T>,
  options: { beforeCommit?: () => Promise<void>; rollback?: boolean } = {},
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query(
      'INSERT INTO tasks (id, status) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET status = $2',
      [id, 'running'],
    );
    const enqueued = await enqueue(client);
    await options.beforeCommit?.();
    await client.query(options.rollback ? 'ROLLBACK' : 'COMMIT');
    return enqueued;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** {@link inTaskTransaction} with one `task.status_changed` event on `topic`; resolves with its id. */
export async function updateTask(
  pool: pg.Pool,
  outbox: Outbox<PgQueryable, Promise<void>>,
  topic: string,
  id: number,
  options: { beforeCommit?: () => Promise<void>; rollback?: boolean } = {},
): Promise<string> {
  const event = await inTaskTransaction(
    pool,
    id,
    (client) =>
      outbox.enqueue(
        client,
        topic,
        createEvent('task.status_changed', { from: 'queued', to: 'running' }, { task_id: id }),
      ),
    options,
  );
  return event.id;
}

/** A transaction's place in time: `begin` and `end` are ticks of one counter shared by all writers. */
export interface TimedCommit {
  id: string;
  begin: number;
  end: number;
}

let tick = 0;

/** Runs `update` and records when it began and when its COMMIT returned, on one shared counter. */
export async function timed(update: () => Promise<string>): Promise<TimedCommit> {
  const begin = ++tick;
  const id = await update();
  return { id, begin, end: ++tick };
}

/**
 * The pairs that break commit order in `delivered`: X committed (its COMMIT returned) before Y began,
 * yet Y was delivered first. Commits that overlap in time may land either way round; these may not.
 */
export function commitOrderViolations(commits: TimedCommit[], delivered: string[]): string[] {
  const at = new Map(delivered.map((id, i) => [id, i]));
  const problems: string[] = [];
  for (const x of commits) {
    for (const y of commits) {
      if (x.end < y.begin && (at.get(x.id) ?? -1) > (at.get(y.id) ?? -1))
        problems.push(`${x.id} after ${y.id}`);
    }
  }
  return problems;
}
