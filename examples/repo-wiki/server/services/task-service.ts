import {
  assertTaskTransition,
  createEvent,
  InvalidTransitionError,
  type LogLevel,
  type TaskStatus,
  type TaskStatusChangedPayload,
} from '@repopulse/events-core';
import { AppError } from '../app-error';
import { type Db, inTransaction, type LogRow, type TaskRow } from '../db';
import type { RepoEvents, RepoRef } from '../event-outbox';
import type { RepositoryService } from './repository-service';
import { recomputeRepositoryStatus } from './repository-status';

/** Runs queued tasks; implemented by the task runner. */
export interface TaskScheduler {
  /** Queues `taskId` (already `queued` in the DB) on its repository's worker. */
  enqueue(repoId: number, taskId: number): void;
  /** Stops `taskId` if this process is running or holding it. */
  cancelTask(taskId: number): Promise<void>;
}

/** Log lines kept per repository (older ones are pruned). */
const LOG_KEEP = 500;

/**
 * Tasks: status changes (state-machine checked), progress, log lines, run/reset. Every change is
 * one SQLite transaction holding the row change, its events (outbox) and, for a status change, the
 * repository status it leads to with its event: they commit together or not at all, and the bus
 * being down never fails one.
 */
export class TaskService {
  readonly #db: Db;
  readonly #events: RepoEvents;
  readonly #repos: RepositoryService;
  readonly #instanceId: string;
  #scheduler: TaskScheduler | undefined;

  constructor(deps: { db: Db; events: RepoEvents; repos: RepositoryService; instanceId: string }) {
    this.#db = deps.db;
    this.#events = deps.events;
    this.#repos = deps.repos;
    this.#instanceId = deps.instanceId;
  }

  /** Connects the runner (it needs this service too, so it is attached after construction). */
  setScheduler(scheduler: TaskScheduler): void {
    this.#scheduler = scheduler;
  }

  /** The repository's tasks in run order. */
  listByRepo(repoId: number): TaskRow[] {
    return this.#db
      .prepare('SELECT * FROM tasks WHERE repo_id = ? ORDER BY ord, id')
      .all(repoId) as TaskRow[];
  }

  /** One task; throws `not_found`. */
  get(id: number): TaskRow {
    const row = this.find(id);
    if (!row) throw new AppError('not_found', `task ${id} does not exist`);
    return row;
  }

  /** One task or `undefined`. */
  find(id: number): TaskRow | undefined {
    return this.#db.prepare('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
  }

  /** The latest `limit` log lines of a repository, oldest first. */
  logsByRepo(repoId: number, limit = 200): LogRow[] {
    const rows = this.#db
      .prepare('SELECT * FROM logs WHERE repo_id = ? ORDER BY id DESC LIMIT ?')
      .all(repoId, limit) as LogRow[];
    return rows.reverse();
  }

  /** Recomputes the repository status from its tasks (one transaction, with its event). */
  recompute(repoId: number): void {
    inTransaction(this.#db, () => recomputeRepositoryStatus(this.#db, this.#events, repoId));
  }

  /**
   * Moves a task to `to` (checked by the state machine; `force` allows any → `pending`) and
   * enqueues `task.status_changed`, then recomputes the repository status (unless `recompute` is
   * false), all in one transaction. Returns the new row, or `undefined` when the task or its
   * repository no longer exists. Throws `invalid_transition`, changing nothing.
   */
  setStatus(
    taskId: number,
    to: TaskStatus,
    opts: { errorMsg?: string; force?: boolean; requestId?: string; recompute?: boolean } = {},
  ): TaskRow | undefined {
    return inTransaction(this.#db, () => {
      const task = this.find(taskId);
      if (!task) return undefined;
      try {
        assertTaskTransition(task.status, to, { force: opts.force ?? false });
      } catch (error) {
        if (error instanceof InvalidTransitionError) {
          throw new AppError('invalid_transition', `task ${taskId} cannot go from ${task.status} to ${to}`, {
            cause: error,
          });
        }
        throw error;
      }
      const repo = this.#repos.find(task.repo_id);
      if (!repo) return undefined;
      const now = Date.now();
      let started = task.started_at;
      let completed = task.completed_at;
      let phase = task.phase;
      let percent = task.percent;
      let instance = task.instance_id;
      if (to === 'pending') {
        started = null;
        completed = null;
        phase = null;
        percent = 0;
        instance = null;
      } else if (to === 'queued') {
        instance = this.#instanceId;
      } else if (to === 'running') {
        started = now;
        completed = null;
        instance = this.#instanceId;
      } else {
        completed = now;
        if (to === 'completed') percent = 100;
      }
      const errorMsg = to === 'failed' ? (opts.errorMsg ?? 'failed') : null;
      this.#db
        .prepare(
          `UPDATE tasks SET status = ?, error_msg = ?, started_at = ?, completed_at = ?, phase = ?, percent = ?,
           instance_id = ?, updated_at = ? WHERE id = ?`,
        )
        .run(to, errorMsg, started, completed, phase, percent, instance, now, taskId);
      const payload: TaskStatusChangedPayload = { from: task.status, to };
      if (errorMsg !== null) payload.error_msg = errorMsg;
      if (started !== null) payload.started_at = started;
      if (completed !== null) payload.completed_at = completed;
      const meta = { task_id: taskId, ...(opts.requestId ? { request_id: opts.requestId } : {}) };
      this.#events.enqueue(repo, 'task.status_changed', payload, meta);
      if (opts.recompute !== false) recomputeRepositoryStatus(this.#db, this.#events, task.repo_id);
      return this.find(taskId);
    });
  }

  /** Stores the task's phase and percent and enqueues `task.progress` (one transaction). */
  progress(repo: RepoRef, taskId: number, phase: string, percent: number, message?: string): void {
    inTransaction(this.#db, () => {
      this.#db
        .prepare('UPDATE tasks SET phase = ?, percent = ?, updated_at = ? WHERE id = ?')
        .run(phase, percent, Date.now(), taskId);
      const payload = message === undefined ? { phase, percent } : { phase, percent, message };
      this.#events.enqueue(repo, 'task.progress', payload, { task_id: taskId });
    });
  }

  /**
   * Enqueues a queued task's place in its run's queue (`ahead` tasks start before it). Nothing is
   * stored with it, but it goes through the outbox like every event: in order with the others on
   * the topic, and never lost to a bus outage.
   */
  queuePosition(repo: RepoRef, taskId: number, ahead: number, queued: number): void {
    inTransaction(this.#db, () => {
      this.#events.enqueue(repo, 'task.queue_changed', { ahead, queued }, { task_id: taskId });
    });
  }

  /** Stores a log line (with its event id, so a page can de-duplicate) and enqueues `log.append`. */
  log(repo: RepoRef, taskId: number | null, level: LogLevel, message: string): void {
    inTransaction(this.#db, () => {
      const event = this.#events.enqueueEnvelope(
        repo,
        createEvent(
          'log.append',
          { level, message },
          { repo_id: repo.id, ...(taskId === null ? {} : { task_id: taskId }) },
        ),
      );
      const info = this.#db
        .prepare(
          'INSERT INTO logs (repo_id, task_id, event_id, level, message, ts) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(repo.id, taskId, event.id, level, message, event.ts);
      const id = Number(info.lastInsertRowid);
      if (id % 100 === 0) {
        this.#db.prepare('DELETE FROM logs WHERE repo_id = ? AND id <= ?').run(repo.id, id - LOG_KEEP);
      }
    });
  }

  #scheduled(): TaskScheduler {
    if (!this.#scheduler) throw new Error('[repo-wiki] no task runner attached');
    return this.#scheduler;
  }

  #assertRunnable(repoId: number): void {
    const repo = this.#repos.get(repoId);
    if (repo.status === 'pending' || repo.status === 'cloning') {
      throw new AppError('conflict', `repository ${repoId} is still ${repo.status}; wait until it is ready`);
    }
  }

  /**
   * Queues every `pending` task of the repository, in order, and recomputes its status: one
   * transaction. Returns the queued tasks.
   */
  runAll(repoId: number, requestId?: string): TaskRow[] {
    const queued = inTransaction(this.#db, () => {
      this.#assertRunnable(repoId);
      const pending = this.listByRepo(repoId).filter((t) => t.status === 'pending');
      const rows: TaskRow[] = [];
      for (const task of pending) {
        const row = this.setStatus(task.id, 'queued', {
          recompute: false,
          ...(requestId ? { requestId } : {}),
        });
        if (row) rows.push(row);
      }
      if (rows.length > 0) recomputeRepositoryStatus(this.#db, this.#events, repoId);
      return rows;
    });
    for (const task of queued) this.#scheduled().enqueue(repoId, task.id);
    return queued;
  }

  /** Queues one `pending` task; throws `invalid_transition` for any other status. */
  run(taskId: number, requestId?: string): TaskRow {
    const task = this.get(taskId);
    this.#assertRunnable(task.repo_id);
    const row = this.setStatus(taskId, 'queued', requestId ? { requestId } : {});
    if (!row) throw new AppError('not_found', `task ${taskId} does not exist`);
    this.#scheduled().enqueue(task.repo_id, taskId);
    return row;
  }

  /** A finished task (`completed`, `failed`, `canceled`) back to `pending`. */
  reset(taskId: number, requestId?: string): TaskRow {
    const row = this.setStatus(taskId, 'pending', requestId ? { requestId } : {});
    if (!row) throw new AppError('not_found', `task ${taskId} does not exist`);
    return row;
  }

  /** Any task back to `pending`, stopping it first if this process runs it. */
  async forceReset(taskId: number, requestId?: string): Promise<TaskRow> {
    this.get(taskId);
    await this.#scheduled().cancelTask(taskId);
    const current = this.get(taskId);
    if (current.status === 'pending') return current;
    const row = this.setStatus(taskId, 'pending', { force: true, ...(requestId ? { requestId } : {}) });
    if (!row) throw new AppError('not_found', `task ${taskId} does not exist`);
    return row;
  }

  /**
   * Startup cleanup: tasks this instance left `running` or `queued` (a crash) become `failed`
   * with "interrupted", and each repository's status is recomputed: one transaction, events
   * included. A task is not re-run: its work may have been half done (a real analyzer's calls
   * cost money); the user resets and runs it again. Returns how many tasks were failed.
   */
  failInterrupted(reason = 'interrupted: the server stopped while the task was in progress'): number {
    return inTransaction(this.#db, () => {
      const rows = this.#db
        .prepare(
          `SELECT * FROM tasks WHERE status IN ('running', 'queued') AND (instance_id = ? OR instance_id IS NULL) ORDER BY repo_id, ord`,
        )
        .all(this.#instanceId) as TaskRow[];
      const repos = new Set<number>();
      for (const task of rows) {
        this.setStatus(task.id, 'failed', { errorMsg: reason, recompute: false });
        repos.add(task.repo_id);
      }
      for (const repoId of repos) recomputeRepositoryStatus(this.#db, this.#events, repoId);
      return rows.length;
    });
  }
}
