import type { RepositoryStatus, TaskStatus } from './status';

/** The least a task must tell {@link aggregateRepositoryStatus}: its status. */
export interface TaskStatusLike {
  /** The task's current status. */
  status: TaskStatus;
}

/**
 * Derives a repository's status from its tasks (pure). The reference semantics:
 * 1. `pending` / `cloning` → unchanged (the clone flow owns those).
 * 2. any task `running` or `queued` → `analyzing`.
 * 3. else any `failed`: with a `pending` task left → `analyzing`, otherwise → `error`.
 * 4. else any `pending`: with a `completed` task → `analyzing`, otherwise → `ready`.
 * 5. else at least one task and all `completed` (ignoring `canceled`) → `completed`.
 * 6. no tasks (or only `canceled` ones) → `ready`.
 *
 * @example
 * ```ts
 * aggregateRepositoryStatus('ready', [{ status: 'running' }]); // 'analyzing'
 * ```
 */
export function aggregateRepositoryStatus(
  current: RepositoryStatus,
  tasks: readonly TaskStatusLike[],
): RepositoryStatus {
  if (current === 'pending' || current === 'cloning') return current;
  const has = (status: TaskStatus) => tasks.some((t) => t.status === status);
  if (has('running') || has('queued')) return 'analyzing';
  if (has('failed')) return has('pending') ? 'analyzing' : 'error';
  if (has('pending')) return has('completed') ? 'analyzing' : 'ready';
  if (has('completed')) return 'completed';
  return 'ready';
}
