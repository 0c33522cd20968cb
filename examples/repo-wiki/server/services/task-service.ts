import {
  assertTaskTransition,
  createEvent,
  InvalidTransitionError,
  type LogLevel,
  type RepositoryStatusTracker,
  type TaskStatus,
  type TaskStatusChangedPayload,
} from '@repopulse/events-core';
import { AppError } from '../app-error';
import type { Db, LogRow, TaskRow } from '../db';
import type { EventPublisher, RepoRef } from '../event-publisher';
import type { RepositoryService } from './repository-service';

/** Runs queued tasks; implemented by the task runner. */
export interface TaskScheduler {
  /** Queues `taskId` (already `queued` in the DB) on its repository's worker. */
  enqueue(repoId: number, taskId: number): void;
  /** Stops `taskId` if this process is running or holding it. */
  cancelTask(taskId: number): Promise<void>;
}

/** Log lines kept per repository (older ones are pruned). */
const LOG_KEEP = 500;

/** Tasks: status changes (state-machine checked), progress, log lines, run/reset. */
export class TaskService {
  readonly #db: Db;
  readonly #publisher: EventPublisher;
  readonly #repos: RepositoryService;
  readonly #tracker: RepositoryStatusTracker<number>;
  readonly #instanceId: string;
  #scheduler: TaskScheduler | undefined;

  constructor(deps: {
    db: Db;
    publisher: EventPublisher;
    repos: RepositoryService;
    tracker: RepositoryStatusTracker<number>;
    instanceId: string;
  }) {
    this.#db = deps.db;
    this.#publisher = deps.publisher;
    this.#repos = deps.repos;
    this.#tracker = deps.tracker;
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

  /** Recomputes the repository status through core's tracker (serialized per repository). */
  recompute(repoId: number): Promise<unknown> {
    return this.#tracker.recompute(repoId);
  }

  /**
   * Moves a task to `to` (checked by the state machine; `force` allows any → `pending`), commits,
   * publishes `task.status_changed`, then recomputes the repository status. Returns the new row,
   * or `undefined` when the task no longer exists.
   */
  async setStatus(
    taskId: number,
    to: TaskStatus,
    opts: { errorMsg?: string; force?: boolean; requestId?: string; recompute?: boolean } = {},
  ): Promise<TaskRow | undefined> {
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
    const repo = this.#repos.find(task.repo_id);
    if (!repo) return undefined;
    const meta = { task_id: taskId, ...(opts.requestId ? { request_id: opts.requestId } : {}) };
    await this.#publisher.publish(repo, 'task.status_changed', payload, meta);
    if (opts.recompute !== false) await this.#tracker.recompute(task.repo_id);
    return this.find(taskId);
  }

  /** Stores the task's phase and percent, then publishes `task.progress`. */
  async progress(
    repo: RepoRef,
    taskId: number,
    phase: string,
    percent: number,
    message?: string,
  ): Promise<void> {
    this.#db
      .prepare('UPDATE tasks SET phase = ?, percent = ?, updated_at = ? WHERE id = ?')
      .run(phase, percent, Date.now(), taskId);
    const payload = message === undefined ? { phase, percent } : { phase, percent, message };
    await this.#publisher.publish(repo, 'task.progress', payload, { task_id: taskId });
  }

  /** Publishes a queued task's place in its run's queue (`ahead` tasks start before it). */
  async queuePosition(repo: RepoRef, taskId: number, ahead: number, queued: number): Promise<void> {
    await this.#publisher.publish(repo, 'task.queue_changed', { ahead, queued }, { task_id: taskId });
  }

  /** Stores a log line (with its event id, so a page can de-duplicate), then publishes `log.append`. */
  async log(repo: RepoRef, taskId: number | null, level: LogLevel, message: string): Promise<void> {
    const event = createEvent(
      'log.append',
      { level, message },
      { repo_id: repo.id, ...(taskId === null ? {} : { task_id: taskId }) },
    );
    const info = this.#db
      .prepare('INSERT INTO logs (repo_id, task_id, event_id, level, message, ts) VALUES (?, ?, ?, ?, ?, ?)')
      .run(repo.id, taskId, event.id, level, message, event.ts);
    const id = Number(info.lastInsertRowid);
    if (id % 100 === 0) {
      this.#db.prepare('DELETE FROM logs WHERE repo_id = ? AND id <= ?').run(repo.id, id - LOG_KEEP);
    }
    await this.#publisher.publishEnvelope(repo, event);
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

  /** Queues every `pending` task of the repository, in order. Returns the queued tasks. */
  async runAll(repoId: number, requestId?: string): Promise<TaskRow[]> {
    this.#assertRunnable(repoId);
    const pending = this.listByRepo(repoId).filter((t) => t.status === 'pending');
    const queued: TaskRow[] = [];
    for (const task of pending) {
      const row = await this.setStatus(task.id, 'queued', {
        recompute: false,
        ...(requestId ? { requestId } : {}),
      });
      if (row) queued.push(row);
    }
    if (queued.length > 0) await this.#tracker.recompute(repoId);
    for (const task of queued) this.#scheduled().enqueue(repoId, task.id);
    return queued;
  }

  /** Queues one `pending` task; throws `invalid_transition` for any other status. */
  async run(taskId: number, requestId?: string): Promise<TaskRow> {
    const task = this.get(taskId);
    this.#assertRunnable(task.repo_id);
    const row = await this.setStatus(taskId, 'queued', requestId ? { requestId } : {});
    if (!row) throw new AppError('not_found', `task ${taskId} does not exist`);
    this.#scheduled().enqueue(task.repo_id, taskId);
    return row;
  }

  /** A finished task (`completed`, `failed`, `canceled`) back to `pending`. */
  async reset(taskId: number, requestId?: string): Promise<TaskRow> {
    const row = await this.setStatus(taskId, 'pending', requestId ? { requestId } : {});
    if (!row) throw new AppError('not_found', `task ${taskId} does not exist`);
    return row;
  }

  /** Any task back to `pending`, stopping it first if this process runs it. */
  async forceReset(taskId: number, requestId?: string): Promise<TaskRow> {
    this.get(taskId);
    await this.#scheduled().cancelTask(taskId);
    const current = this.get(taskId);
    if (current.status === 'pending') return current;
    const row = await this.setStatus(taskId, 'pending', { force: true, ...(requestId ? { requestId } : {}) });
    if (!row) throw new AppError('not_found', `task ${taskId} does not exist`);
    return row;
  }

  /**
   * Startup cleanup: tasks this instance left `running` or `queued` (a crash) become `failed`
   * with "interrupted", each repository's status is recomputed, and events are published.
   * Returns how many tasks were failed.
   */
  async failInterrupted(
    reason = 'interrupted: the server stopped while the task was in progress',
  ): Promise<number> {
    const rows = this.#db
      .prepare(
        `SELECT * FROM tasks WHERE status IN ('running', 'queued') AND (instance_id = ? OR instance_id IS NULL) ORDER BY repo_id, ord`,
      )
      .all(this.#instanceId) as TaskRow[];
    const repos = new Set<number>();
    for (const task of rows) {
      await this.setStatus(task.id, 'failed', { errorMsg: reason, recompute: false });
      repos.add(task.repo_id);
    }
    for (const repoId of repos) await this.#tracker.recompute(repoId);
    return rows.length;
  }
}
