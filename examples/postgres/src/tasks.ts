import type { PostgresBus } from '@repopulse/bus-postgres';
import { createEvent, type TaskStatus } from '@repopulse/events-core';
import type pg from 'pg';

/** A task row. */
export interface Task {
  id: string;
  repoId: string;
  status: TaskStatus;
  percent: number;
}

/** Creates the example's own table (your migrations would). */
export async function createTasksTable(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS tasks (
    id bigserial PRIMARY KEY,
    repo_id text NOT NULL,
    status text NOT NULL,
    percent integer NOT NULL DEFAULT 0
  )`);
}

/**
 * The service layer: every change updates the task's row and publishes its event in one
 * transaction, so subscribers see the event exactly when the change commits, and never when it
 * rolls back.
 */
export function createTaskService(pool: pg.Pool, bus: PostgresBus, stepMs = 500) {
  async function inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT'); // the row and the event, together
    } catch (error) {
      await client.query('ROLLBACK'); // neither
      throw error;
    } finally {
      client.release();
    }
  }

  async function setStatus(task: Task, to: TaskStatus, check?: () => void): Promise<void> {
    await inTransaction(async (client) => {
      await client.query('UPDATE tasks SET status = $1 WHERE id = $2', [to, task.id]);
      const event = createEvent(
        'task.status_changed',
        { from: task.status, to },
        { repo_id: task.repoId, task_id: task.id },
      );
      await bus.publish(`repo:${task.repoId}`, event, { client });
      check?.(); // a throw here rolls back the update and the event
    });
    task.status = to;
  }

  async function setProgress(task: Task, percent: number): Promise<void> {
    await inTransaction(async (client) => {
      await client.query('UPDATE tasks SET percent = $1 WHERE id = $2', [percent, task.id]);
      const event = createEvent(
        'task.progress',
        { phase: 'analysis', percent },
        { repo_id: task.repoId, task_id: task.id },
      );
      await bus.publish(`repo:${task.repoId}`, event, { client });
    });
    task.percent = percent;
  }

  async function run(task: Task, failAtTheEnd: boolean): Promise<void> {
    await setStatus(task, 'running');
    for (const percent of [25, 50, 75, 100]) {
      await new Promise((resolve) => setTimeout(resolve, stepMs)); // the real work goes here
      await setProgress(task, percent);
    }
    try {
      await setStatus(task, 'completed', () => {
        if (failAtTheEnd) throw new Error('the result did not validate');
      });
    } catch {
      await setStatus(task, 'failed'); // "completed" was rolled back: nobody ever saw it
    }
  }

  return {
    async list(repoId: string): Promise<Task[]> {
      const { rows } = await pool.query<{ id: string; repo_id: string; status: TaskStatus; percent: number }>(
        'SELECT id, repo_id, status, percent FROM tasks WHERE repo_id = $1 ORDER BY id',
        [repoId],
      );
      return rows.map((row) => ({
        id: row.id,
        repoId: row.repo_id,
        status: row.status,
        percent: row.percent,
      }));
    },

    /** Creates a task and runs it in the background (`failAtTheEnd`: its last step rolls back). */
    async start(repoId: string, failAtTheEnd = false): Promise<Task> {
      const { rows } = await pool.query<{ id: string }>(
        "INSERT INTO tasks (repo_id, status) VALUES ($1, 'pending') RETURNING id",
        [repoId],
      );
      const task: Task = { id: String(rows[0]?.id), repoId, status: 'pending', percent: 0 };
      run(task, failAtTheEnd).catch((error: unknown) => console.error(`task ${task.id} failed`, error));
      return task;
    },
  };
}

/** What {@link createTaskService} returns. */
export type TaskService = ReturnType<typeof createTaskService>;
