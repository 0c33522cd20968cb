import { createEvent, type EventBus, type TaskStatus } from '@repopulse/events-core';
import { createOutbox } from '@repopulse/outbox';
import { createPostgresStore } from '@repopulse/outbox/postgres';
import type pg from 'pg';

export async function createTaskStore(pool: pg.Pool, bus: EventBus) {
  const outbox = createOutbox({ store: await createPostgresStore({ pool }), bus });

  async function setStatus(repoId: number, taskId: number, to: TaskStatus): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const { rows } = await client.query('SELECT status FROM tasks WHERE id = $1 FOR UPDATE', [taskId]);
      if (rows.length === 0) throw new Error(`no task ${taskId}`);
      await client.query('UPDATE tasks SET status = $1 WHERE id = $2', [to, taskId]);
      await outbox.enqueue(
        client,
        `repo:${repoId}`,
        createEvent(
          'task.status_changed',
          { from: rows[0].status, to },
          { repo_id: repoId, task_id: taskId },
        ),
      );
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }

  return { setStatus, outbox };
}
