import { createEvent, type EventBus, type TaskStatus } from '@repopulse/events-core';
import { createOutbox } from '@repopulse/outbox';
import { Kysely, PostgresDialect } from 'kysely';
import type pg from 'pg';
import { createKyselyStore } from './kysely-store';

interface Database {
  tasks: { id: number; status: TaskStatus };
}

export async function createTaskStore(pool: pg.Pool, bus: EventBus) {
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  const outbox = createOutbox({ store: await createKyselyStore<Database>(pool), bus });

  const setStatus = (repoId: number, taskId: number, to: TaskStatus) =>
    db.transaction().execute(async (trx) => {
      const { status: from } = await trx
        .selectFrom('tasks')
        .select('status')
        .where('id', '=', taskId)
        .forUpdate()
        .executeTakeFirstOrThrow(() => new Error(`no task ${taskId}`));
      await trx.updateTable('tasks').set({ status: to }).where('id', '=', taskId).execute();
      await outbox.enqueue(
        trx,
        `repo:${repoId}`,
        createEvent('task.status_changed', { from, to }, { repo_id: repoId, task_id: taskId }),
      );
    });

  return { setStatus, outbox };
}
