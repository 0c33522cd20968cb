// The code of docs/publishing-from-transactions.md, run: each way of writing a task update commits
// the row and its event together, and a failed transaction publishes nothing.
import { createMemoryBus } from '@repopulse/bus-memory';
import { createTestSchema, postgresMissing, requirement } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { replayTopic } from './helpers/collect';
import { sqliteFile } from './helpers/sqlite-file';
import { createTaskStore as kyselyTasks } from './snippets/kysely-tasks';
import { createTaskStore as postgresTasks } from './snippets/postgres-tasks';
import { createTaskStore as sqliteTasks } from './snippets/sqlite-tasks';

const mode = requirement('outbox', await postgresMissing(), 'the Postgres and Kysely snippets');

const cleanups = cleanupAfterEach();

type TaskStore = {
  setStatus(repoId: number, taskId: number, to: 'running'): unknown;
  outbox: { drained(): Promise<void>; close(): Promise<void> };
};

async function check(
  tasks: TaskStore,
  bus: ReturnType<typeof createMemoryBus>,
  readStatus: () => Promise<unknown>,
) {
  cleanups.push(() => tasks.outbox.close());
  await tasks.setStatus(42, 7, 'running');
  await expect(async () => tasks.setStatus(42, 99, 'running')).rejects.toThrow('no task 99');
  await tasks.outbox.drained();
  const events = await replayTopic(bus, 'repo:42');
  expect(events.map((e) => [e.event.type, e.event.task_id, e.event.payload])).toEqual([
    ['task.status_changed', '7', { from: 'pending', to: 'running' }],
  ]);
  expect(await readStatus()).toBe('running');
}

describe('the snippets of "Publishing from your database transaction"', () => {
  it('SQLite (better-sqlite3)', async () => {
    const file = sqliteFile();
    cleanups.push(file.remove);
    file.db.exec("INSERT INTO tasks VALUES (7, 'pending')");
    const bus = createMemoryBus();
    await check(sqliteTasks(file.db, bus), bus, async () =>
      file.db.prepare('SELECT status FROM tasks').pluck().get(),
    );
  });

  describe.skipIf(mode === 'skip')('on Postgres', () => {
    const schema = async () => {
      const made = await createTestSchema('outbox_snippet');
      cleanups.push(() => made.drop());
      await made.pool.query(
        "CREATE TABLE tasks (id int PRIMARY KEY, status text NOT NULL); INSERT INTO tasks VALUES (7, 'pending')",
      );
      const read = async () => (await made.pool.query('SELECT status FROM tasks')).rows[0]?.status;
      return { pool: made.pool, read };
    };

    it('pg', async () => {
      const { pool, read } = await schema();
      const bus = createMemoryBus();
      await check(await postgresTasks(pool, bus), bus, read);
    });

    it('Kysely', async () => {
      const { pool, read } = await schema();
      const bus = createMemoryBus();
      await check(await kyselyTasks(pool, bus), bus, read);
    });
  });
});
