import { InvalidTransitionError } from './errors';

/** Every repository status, in lifecycle order. */
export const REPOSITORY_STATUSES = [
  'pending',
  'cloning',
  'ready',
  'analyzing',
  'completed',
  'error',
] as const;
/** A repository's lifecycle status. */
export type RepositoryStatus = (typeof REPOSITORY_STATUSES)[number];

/** Every task status (`queued` and `canceled` are optional to use). */
export const TASK_STATUSES = ['pending', 'queued', 'running', 'completed', 'failed', 'canceled'] as const;
/** A task's lifecycle status. */
export type TaskStatus = (typeof TASK_STATUSES)[number];

const REPO_TRANSITIONS: Record<RepositoryStatus, readonly RepositoryStatus[]> = {
  pending: ['cloning', 'error'],
  cloning: ['ready', 'error'],
  ready: ['analyzing', 'completed', 'error'],
  analyzing: ['ready', 'completed', 'error'],
  completed: ['analyzing', 'ready', 'error'],
  error: ['cloning', 'ready', 'analyzing', 'completed'],
};

const TASK_TRANSITIONS: Record<TaskStatus, readonly TaskStatus[]> = {
  pending: ['queued', 'running', 'canceled'],
  queued: ['pending', 'running', 'failed', 'canceled'],
  running: ['completed', 'failed', 'canceled'],
  completed: ['pending'],
  failed: ['pending'],
  canceled: ['pending'],
};

/** Options for the task transition checks. */
export interface TaskTransitionOptions {
  /**
   * A forced reset: any status may go back to `pending` (used to unstick a task whose
   * runner died while it was `running`).
   * @default false
   */
  force?: boolean;
}

/** True when `value` is a known repository status. */
export function isRepositoryStatus(value: unknown): value is RepositoryStatus {
  return typeof value === 'string' && (REPOSITORY_STATUSES as readonly string[]).includes(value);
}

/** True when `value` is a known task status. */
export function isTaskStatus(value: unknown): value is TaskStatus {
  return typeof value === 'string' && (TASK_STATUSES as readonly string[]).includes(value);
}

/**
 * True when the repository state machine allows `from → to`. Staying in the same status is
 * not a transition and returns false.
 *
 * @example
 * ```ts
 * canTransitionRepo('cloning', 'ready'); // true
 * canTransitionRepo('pending', 'completed'); // false
 * ```
 */
export function canTransitionRepo(from: RepositoryStatus, to: RepositoryStatus): boolean {
  return isRepositoryStatus(from) && REPO_TRANSITIONS[from].includes(to);
}

/**
 * True when the task state machine allows `from → to` (with `force`, any status may return to
 * `pending`). Staying in the same status is not a transition and returns false.
 */
export function canTransitionTask(
  from: TaskStatus,
  to: TaskStatus,
  options: TaskTransitionOptions = {},
): boolean {
  if (from === to) return false;
  if (options.force && to === 'pending' && isTaskStatus(from)) return true;
  return isTaskStatus(from) && TASK_TRANSITIONS[from].includes(to);
}

/** Like {@link canTransitionRepo}, but throws {@link InvalidTransitionError} when not allowed. */
export function assertRepoTransition(from: RepositoryStatus, to: RepositoryStatus): void {
  if (!canTransitionRepo(from, to)) throw new InvalidTransitionError('repository', from, to);
}

/** Like {@link canTransitionTask}, but throws {@link InvalidTransitionError} when not allowed. */
export function assertTaskTransition(
  from: TaskStatus,
  to: TaskStatus,
  options: TaskTransitionOptions = {},
): void {
  if (!canTransitionTask(from, to, options)) throw new InvalidTransitionError('task', from, to);
}
