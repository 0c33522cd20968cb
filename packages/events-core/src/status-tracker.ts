import type { TaskStatusLike } from './aggregate';
import { aggregateRepositoryStatus } from './aggregate';
import type { RepoStatusChangedPayload } from './catalog';
import type { RepositoryStatus } from './status';
import { assertRepoTransition } from './status';

/** What the tracker reads about a repository. */
export interface RepositoryStatusSnapshot {
  /** The stored repository status. */
  status: RepositoryStatus;
  /** Its tasks (only `status` is read). */
  tasks: readonly TaskStatusLike[];
}

/** Options of {@link createRepositoryStatusTracker}. */
export interface RepositoryStatusTrackerOptions<Id> {
  /** Loads the repository's current status and tasks (from the source of truth, e.g. the DB). */
  load(repoId: Id): Promise<RepositoryStatusSnapshot> | RepositoryStatusSnapshot;
  /** Saves a changed status. Called only when the status really changed. */
  save(repoId: Id, change: RepoStatusChangedPayload): Promise<void> | void;
  /** Publishes `repo.status_changed` after `save` resolved. Called only on a real change. */
  publish(repoId: Id, change: RepoStatusChangedPayload): Promise<unknown> | unknown;
  /** Optional message stored with an `error` status (e.g. the failed task's error). */
  errorMessage?(repoId: Id, snapshot: RepositoryStatusSnapshot): string | undefined;
}

/** Recomputes repository statuses; see {@link createRepositoryStatusTracker}. */
export interface RepositoryStatusTracker<Id> {
  /**
   * Recomputes `repoId`'s status from its tasks; saves and publishes only on a real change.
   * Calls for one repository run one at a time, in call order. Resolves to the change, if any.
   * Rejects with `InvalidTransitionError` (nothing saved) if the change would be illegal.
   */
  recompute(repoId: Id): Promise<RepoStatusChangedPayload | undefined>;
  /** Resolves once every queued recompute has finished. */
  idle(): Promise<void>;
}

/**
 * Serializes status recomputation per repository, so two concurrent task updates can never
 * publish repository statuses out of order.
 *
 * @example
 * ```ts
 * const tracker = createRepositoryStatusTracker<string>({
 *   load: (id) => ({ status: repos.get(id).status, tasks: tasksOf(id) }),
 *   save: (id, { to }) => repos.setStatus(id, to),
 *   publish: (id, change) => bus.publish(`repo:${id}`, createEvent('repo.status_changed', change, { repo_id: id })),
 * });
 * await tracker.recompute('42');
 * ```
 */
export function createRepositoryStatusTracker<Id>(
  options: RepositoryStatusTrackerOptions<Id>,
): RepositoryStatusTracker<Id> {
  const queues = new Map<Id, Promise<unknown>>();

  async function run(repoId: Id): Promise<RepoStatusChangedPayload | undefined> {
    const snapshot = await options.load(repoId);
    const to = aggregateRepositoryStatus(snapshot.status, snapshot.tasks);
    if (to === snapshot.status) return undefined;
    assertRepoTransition(snapshot.status, to);
    const change: RepoStatusChangedPayload = { from: snapshot.status, to };
    const errorMsg = to === 'error' ? options.errorMessage?.(repoId, snapshot) : undefined;
    if (errorMsg !== undefined) change.error_msg = errorMsg;
    await options.save(repoId, change);
    await options.publish(repoId, change);
    return change;
  }

  return {
    recompute(repoId) {
      const previous = queues.get(repoId) ?? Promise.resolve();
      const next = previous.then(
        () => run(repoId),
        () => run(repoId),
      );
      const tail = next.catch(() => undefined);
      queues.set(repoId, tail);
      void tail.then(() => {
        if (queues.get(repoId) === tail) queues.delete(repoId);
      });
      return next;
    },
    async idle() {
      while (queues.size > 0) await Promise.all(queues.values());
    },
  };
}
