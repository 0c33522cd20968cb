import type { EventBus, TaskStatus } from '@repopulse/events-core';
import { type Db, openDatabase } from '../../examples/repo-wiki/server/db';
import { createEventOutbox, type RepoEvents } from '../../examples/repo-wiki/server/event-outbox';
import { createLogger } from '../../examples/repo-wiki/server/logger';
import { RepositoryService } from '../../examples/repo-wiki/server/services/repository-service';
import { TaskService } from '../../examples/repo-wiki/server/services/task-service';
import { createTopicNames } from '../../examples/repo-wiki/server/topics';

/** Repositories the workload spreads its task updates over, five tasks each (the app's default). */
export const REPOSITORIES = 20;
export const TASKS_PER_REPOSITORY = 5;

/**
 * The status a task goes to at its `step`-th update: the reference app's run cycle
 * (`queued → running → completed`), then back to `pending` (a reset) to start over.
 */
export const TASK_CYCLE: readonly TaskStatus[] = ['queued', 'running', 'completed', 'pending'];

/** The reference app's task service on its own database, with events or without any. */
export interface ReferenceAppTasks {
  /** The next task update: one `TaskService.setStatus` transaction (with the repository recompute). */
  update(): void;
  /** The app's outbox (undefined without events). */
  outbox: ReturnType<typeof createEventOutbox>['outbox'] | undefined;
  db: Db;
}

/** Events nowhere: the same transactions as the app's, without any event. */
const NO_EVENTS: RepoEvents = {
  enqueue: () => undefined as never,
  enqueueEnvelope: (_repo, event) => event,
  enqueueOn: () => {},
};

/**
 * The reference app's own database (schema, indexes, pragmas: WAL, `synchronous = NORMAL`) and
 * task service in `dataDir`, with {@link REPOSITORIES} `ready` repositories of five `pending` tasks.
 * Each {@link ReferenceAppTasks.update} is what the app's task runner does at a status change:
 * `TaskService.setStatus` reads the task and its repository, updates the task row, recomputes the
 * repository's status from its tasks (updating it on a change) and, with `bus`, enqueues
 * `task.status_changed` (and `repo.status_changed` on its three topics on a change) through the
 * app's outbox, each a fresh `createEvent`, all in one `BEGIN IMMEDIATE` transaction. Without `bus`
 * the same transaction runs with no event at all.
 */
export function referenceAppTasks(dataDir: string, bus: EventBus | undefined): ReferenceAppTasks {
  const db = openDatabase(dataDir);
  const log = createLogger('silent');
  const made = bus
    ? createEventOutbox({
        db,
        bus,
        topics: createTopicNames('bench'),
        log,
        persistPositions: false,
      })
    : undefined;
  const events = made?.events ?? NO_EVENTS;
  const repos = new RepositoryService({
    db,
    events,
    log,
    cloneMs: 1,
    instanceId: 'bench',
    cancelWork: async () => {},
  });
  const tasks = new TaskService({ db, events, repos, instanceId: 'bench' });
  const now = Date.now();
  const addRepo = db.prepare(
    `INSERT INTO repositories (name, url, status, owner, topic_nonce, created_at, updated_at)
     VALUES (?, ?, 'ready', 'alice', ?, ?, ?)`,
  );
  const addTask = db.prepare(
    `INSERT INTO tasks (repo_id, kind, title, ord, status, updated_at) VALUES (?, 'overview', ?, ?, 'pending', ?)`,
  );
  const taskIds: number[] = [];
  db.transaction(() => {
    for (let r = 0; r < REPOSITORIES; r++) {
      const repoId = Number(
        addRepo.run(`repo${r}`, `https://example.com/r${r}.git`, `n${r}`, now, now).lastInsertRowid,
      );
      for (let t = 0; t < TASKS_PER_REPOSITORY; t++) {
        taskIds.push(Number(addTask.run(repoId, `Task ${t}`, t, now).lastInsertRowid));
      }
    }
  })();
  const count = taskIds.length;
  let done = 0;
  return {
    update() {
      const to = TASK_CYCLE[Math.floor(done / count) % TASK_CYCLE.length] as TaskStatus;
      tasks.setStatus(taskIds[done % count] as number, to, { force: to === 'pending' });
      done++;
    },
    outbox: made?.outbox,
    db,
  };
}
