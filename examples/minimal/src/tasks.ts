import { createEvent, type TaskStatus } from '@repopulse/events-core';
import type { Outbox } from '@repopulse/outbox';
import type { SqliteDatabase } from '@repopulse/outbox/sqlite';
import type Database from 'better-sqlite3';

/** A task as the page shows it. */
export interface Task {
  id: string;
  repoId: string;
  status: TaskStatus;
  percent: number;
}

/**
 * The service layer: every change to a task and the event announcing it are written in one
 * database transaction, the event through the outbox. Both commit or neither does; the outbox's
 * relay publishes committed events on the repository's topic.
 */
export function createTaskService(db: Database.Database, outbox: Outbox<SqliteDatabase, void>, stepMs = 500) {
  const insert = db.prepare(`INSERT INTO tasks (repo_id, status, percent) VALUES (?, 'pending', 0)`);
  const update = db.prepare('UPDATE tasks SET status = ?, percent = ? WHERE id = ?');
  const byRepo = db.prepare(
    'SELECT CAST(id AS TEXT) AS id, repo_id AS repoId, status, percent FROM tasks WHERE repo_id = ? ORDER BY id',
  );

  // The change and its event, in one transaction: `db.transaction` commits both, or neither.
  const setStatus = db.transaction((task: Task, to: TaskStatus) => {
    update.run(to, task.percent, task.id);
    outbox.enqueue(
      db,
      `repo:${task.repoId}`,
      createEvent(
        'task.status_changed',
        { from: task.status, to },
        { repo_id: task.repoId, task_id: task.id },
      ),
    );
    task.status = to;
  });

  const setProgress = db.transaction((task: Task, percent: number) => {
    update.run(task.status, percent, task.id);
    outbox.enqueue(
      db,
      `repo:${task.repoId}`,
      createEvent(
        'task.progress',
        { phase: 'analysis', percent },
        { repo_id: task.repoId, task_id: task.id },
      ),
    );
    task.percent = percent;
  });

  async function run(task: Task): Promise<void> {
    setStatus(task, 'running');
    for (const percent of [25, 50, 75, 100]) {
      await new Promise((resolve) => setTimeout(resolve, stepMs)); // the real work goes here
      setProgress(task, percent);
    }
    setStatus(task, 'completed');
  }

  return {
    list: (repoId: string): Task[] => byRepo.all(repoId) as Task[],

    /** Creates a task and runs it in the background. */
    start(repoId: string): Task {
      const id = String(insert.run(repoId).lastInsertRowid);
      const task: Task = { id, repoId, status: 'pending', percent: 0 };
      run(task).catch((error: unknown) => console.error(`task ${task.id} failed`, error));
      return task;
    },
  };
}

/** What {@link createTaskService} returns. */
export type TaskService = ReturnType<typeof createTaskService>;
