import { createEvent, type EventBus, type TaskStatus } from '@repopulse/events-core';
import { createOutbox } from '@repopulse/outbox';
import { createSqliteStore } from '@repopulse/outbox/sqlite';
import type Database from 'better-sqlite3';

export function createTaskStore(db: Database.Database, bus: EventBus) {
  const outbox = createOutbox({ store: createSqliteStore(db), bus });
  const readStatus = db.prepare<[number], { status: TaskStatus }>('SELECT status FROM tasks WHERE id = ?');
  const writeStatus = db.prepare('UPDATE tasks SET status = ? WHERE id = ?');

  // The state change and its event commit together, or neither does.
  const setStatus: (repoId: number, taskId: number, to: TaskStatus) => void = db.transaction(
    (repoId, taskId, to) => {
      const row = readStatus.get(taskId);
      if (!row) throw new Error(`no task ${taskId}`);
      writeStatus.run(to, taskId);
      outbox.enqueue(
        db,
        `repo:${repoId}`,
        createEvent('task.status_changed', { from: row.status, to }, { repo_id: repoId, task_id: taskId }),
      );
    },
  );

  return { setStatus, outbox };
}
