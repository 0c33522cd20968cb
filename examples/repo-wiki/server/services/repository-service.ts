import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertRepoTransition, type RepositoryStatus } from '@repopulse/events-core';
import { AppError } from '../app-error';
import { type Db, inTransaction, type RepositoryRow } from '../db';
import type { RepoEvents } from '../event-outbox';
import type { Logger } from '../logger';
import type { AuthUser } from './access';

/** The tasks every new repository gets, in run order. */
export const DEFAULT_TASKS: ReadonlyArray<{ kind: string; title: string }> = [
  { kind: 'overview', title: 'Overview' },
  { kind: 'architecture', title: 'Architecture' },
  { kind: 'api', title: 'API reference' },
  { kind: 'deployment', title: 'Deployment' },
  { kind: 'glossary', title: 'Glossary' },
];

/** What {@link RepositoryService} needs besides the DB. */
export interface RepositoryServiceDeps {
  db: Db;
  events: RepoEvents;
  log: Logger;
  /** Simulated clone duration in ms. */
  cloneMs: number;
  /** This instance's id (recorded on clones it runs). */
  instanceId: string;
  /** Stops any running work of a repository (called before it is deleted). */
  cancelWork(repoId: number): Promise<void>;
}

const MAX_URL_LENGTH = 2048;

function nameFromUrl(url: string): string {
  const trimmed = url.replace(/\.git$/, '').replace(/\/+$/, '');
  const last = trimmed.split(/[/:]/).filter(Boolean).pop();
  return last && last.length > 0 ? last.slice(0, 200) : 'repository';
}

/** Repositories: create (with a simulated clone), list, read, delete. */
export class RepositoryService {
  readonly #deps: RepositoryServiceDeps;
  readonly #clones = new Set<Promise<void>>();
  readonly #abort = new AbortController();

  constructor(deps: RepositoryServiceDeps) {
    this.#deps = deps;
  }

  /** Repositories `user` may see, newest first. */
  list(user: AuthUser): RepositoryRow[] {
    const { db } = this.#deps;
    return (
      user.role === 'admin'
        ? db.prepare('SELECT * FROM repositories ORDER BY id DESC').all()
        : db.prepare('SELECT * FROM repositories WHERE owner = ? ORDER BY id DESC').all(user.username)
    ) as RepositoryRow[];
  }

  /** One repository; throws `not_found`. */
  get(id: number): RepositoryRow {
    const row = this.#deps.db.prepare('SELECT * FROM repositories WHERE id = ?').get(id) as
      | RepositoryRow
      | undefined;
    if (!row) throw new AppError('not_found', `repository ${id} does not exist`);
    return row;
  }

  /** Like {@link get} but `undefined` when missing. */
  find(id: number): RepositoryRow | undefined {
    return this.#deps.db.prepare('SELECT * FROM repositories WHERE id = ?').get(id) as
      | RepositoryRow
      | undefined;
  }

  /**
   * Stores a repository with its default tasks and enqueues `repo.created` (one transaction), then
   * clones it in the background (`pending → cloning → ready`, or `error` when the URL contains
   * `fail-clone`). Throws `bad_request` for a missing or malformed URL.
   */
  create(user: AuthUser, url: unknown, requestId?: string): RepositoryRow {
    if (typeof url !== 'string' || url.trim() === '' || url.length > MAX_URL_LENGTH) {
      throw new AppError(
        'bad_request',
        `url must be a non-empty string of at most ${MAX_URL_LENGTH} characters`,
      );
    }
    const clean = url.trim();
    if (!/^(https?:\/\/|git@|ssh:\/\/|file:\/\/)\S+$/.test(clean)) {
      throw new AppError(
        'bad_request',
        'url must start with http(s)://, ssh://, file:// or git@ and hold no spaces',
      );
    }
    const { db, events } = this.#deps;
    const now = Date.now();
    const repo = inTransaction(db, () => {
      const info = db
        .prepare(
          `INSERT INTO repositories (name, url, status, owner, instance_id, topic_nonce, created_at, updated_at)
           VALUES (?, ?, 'pending', ?, ?, ?, ?, ?)`,
        )
        .run(
          nameFromUrl(clean),
          clean,
          user.username,
          this.#deps.instanceId,
          randomBytes(8).toString('hex'),
          now,
          now,
        );
      const id = Number(info.lastInsertRowid);
      const addTask = db.prepare(
        `INSERT INTO tasks (repo_id, kind, title, ord, status, updated_at) VALUES (?, ?, ?, ?, 'pending', ?)`,
      );
      for (const [i, t] of DEFAULT_TASKS.entries()) addTask.run(id, t.kind, t.title, i, now);
      const created = this.get(id);
      const meta = requestId ? { request_id: requestId } : {};
      events.enqueue(created, 'repo.created', { name: created.name, url: created.url }, meta);
      return created;
    });
    const clone = this.#clone(repo, requestId).catch((error) => {
      this.#deps.log.error('clone failed unexpectedly', { repo_id: repo.id, error });
    });
    this.#clones.add(clone);
    void clone.finally(() => this.#clones.delete(clone));
    return repo;
  }

  /**
   * Changes a repository's status (checked against the state machine) and enqueues
   * `repo.status_changed`, in one transaction. Returns false when the repository no longer exists.
   */
  setStatus(id: number, to: RepositoryStatus, errorMsg?: string, requestId?: string): boolean {
    return inTransaction(this.#deps.db, () => {
      const repo = this.find(id);
      if (!repo) return false;
      assertRepoTransition(repo.status, to);
      this.#deps.db
        .prepare('UPDATE repositories SET status = ?, error_msg = ?, updated_at = ? WHERE id = ?')
        .run(to, errorMsg ?? null, Date.now(), id);
      const payload =
        errorMsg === undefined ? { from: repo.status, to } : { from: repo.status, to, error_msg: errorMsg };
      this.#deps.events.enqueue(
        repo,
        'repo.status_changed',
        payload,
        requestId ? { request_id: requestId } : {},
      );
      return true;
    });
  }

  async #clone(repo: RepositoryRow, requestId?: string): Promise<void> {
    const signal = this.#abort.signal;
    if (!this.setStatus(repo.id, 'cloning', undefined, requestId)) return;
    try {
      await sleep(this.#deps.cloneMs, undefined, { signal });
    } catch {
      return; // shutting down: the clone is abandoned
    }
    if (repo.url.includes('fail-clone')) {
      this.setStatus(repo.id, 'error', `clone of ${repo.url} failed: repository not found`, requestId);
    } else {
      this.setStatus(repo.id, 'ready', undefined, requestId);
    }
  }

  /**
   * Stops its work, then deletes the repository (tasks, documents, logs cascade) and enqueues
   * `repo.deleted`, in one transaction.
   */
  async delete(id: number, requestId?: string): Promise<void> {
    const repo = this.get(id);
    await this.#deps.cancelWork(id);
    inTransaction(this.#deps.db, () => {
      this.#deps.db.prepare('DELETE FROM repositories WHERE id = ?').run(id);
      this.#deps.events.enqueue(repo, 'repo.deleted', {}, requestId ? { request_id: requestId } : {});
    });
  }

  /**
   * Startup cleanup: repositories whose clone this instance was running when it died (still
   * `pending`/`cloning`) go to `error` with "interrupted". Returns how many.
   */
  failInterruptedClones(): number {
    const rows = this.#deps.db
      .prepare(
        `SELECT id FROM repositories WHERE status IN ('pending', 'cloning') AND instance_id = ? ORDER BY id`,
      )
      .all(this.#deps.instanceId) as { id: number }[];
    for (const { id } of rows) {
      this.setStatus(id, 'error', 'interrupted: the server stopped while the repository was being cloned');
    }
    return rows.length;
  }

  /** Abandons clones in progress (shutdown). */
  async close(): Promise<void> {
    this.#abort.abort();
    await Promise.all(this.#clones);
  }
}
