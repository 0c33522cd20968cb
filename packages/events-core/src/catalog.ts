import { field, type PayloadSchema } from './schema';
import { REPOSITORY_STATUSES, type RepositoryStatus, TASK_STATUSES, type TaskStatus } from './status';

/** Payload of `repo.status_changed`. */
export interface RepoStatusChangedPayload {
  /** Status before the change. */
  from: RepositoryStatus;
  /** Status after the change. */
  to: RepositoryStatus;
  /** Why the repository is in `error`, when it is. */
  error_msg?: string;
}

/** Payload of `task.status_changed`. */
export interface TaskStatusChangedPayload {
  /** Status before the change. */
  from: TaskStatus;
  /** Status after the change. */
  to: TaskStatus;
  /** Why the task failed, when it did. */
  error_msg?: string;
  /** When the task started running (ms since epoch). */
  started_at?: number;
  /** When the task finished (ms since epoch). */
  completed_at?: number;
}

/** Payload of `doc.created`. */
export interface DocCreatedPayload {
  /** The new document's id. */
  doc_id: string;
  /** Its title. */
  title: string;
  /** Its file name. */
  filename: string;
}

/** Payload of `task.progress`. */
export interface TaskProgressPayload {
  /** The phase the task is in (e.g. `static_analysis`, `llm`, `save_document`). */
  phase: string;
  /** Overall completion, 0–100. */
  percent?: number;
  /** Free-form detail for humans. */
  message?: string;
}

/**
 * Payload of `task.queue_changed`: the task (the envelope's `task_id`) is `queued` in a run and
 * `ahead` tasks of the same run will start before it (`0`: it is next). Published for every
 * still-queued task each time the run's queue moves, so a page shows "queued · 2 ahead" live.
 */
export interface TaskQueueChangedPayload {
  /** Tasks that will start before this one (0 = next). */
  ahead: number;
  /** Tasks still queued in the run, this one included. */
  queued?: number;
}

/** Log levels accepted by `log.append`. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A `log.append` level. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Payload of `log.append`. */
export interface LogAppendPayload {
  /** Severity. */
  level: LogLevel;
  /** The log line. */
  message: string;
}

/** Payload of `repo.created`. */
export interface RepoCreatedPayload {
  /** Display name of the repository. */
  name: string;
  /** Where it was cloned from. */
  url?: string;
}

/** Payload of `repo.deleted` (the repository is named by the envelope's `repo_id`). */
export type RepoDeletedPayload = Record<string, never>;

/**
 * The event catalog: event type → payload type. Augment it to add custom event types with
 * full typing, and register their runtime schema with `registerEventType`.
 *
 * @example
 * ```ts
 * declare module '@repopulse/events-core' {
 *   interface EventMap { 'build.finished': { ok: boolean } }
 * }
 * registerEventType('build.finished', { ok: field.boolean() });
 * ```
 */
export interface EventMap extends BuiltinEventMap {}

/** The built-in catalog of DESIGN.md, before any augmentation. */
export interface BuiltinEventMap {
  /** A repository's status changed (published only on a real change). */
  'repo.status_changed': RepoStatusChangedPayload;
  /** A task's status changed. */
  'task.status_changed': TaskStatusChangedPayload;
  /** A task wrote a document. */
  'doc.created': DocCreatedPayload;
  /** A running task reports its phase and progress. */
  'task.progress': TaskProgressPayload;
  /** A queued task's place in its run's queue changed. */
  'task.queue_changed': TaskQueueChangedPayload;
  /** A log line of a repository's work. */
  'log.append': LogAppendPayload;
  /** A repository was added (list-level topic). */
  'repo.created': RepoCreatedPayload;
  /** A repository was removed (list-level topic). */
  'repo.deleted': RepoDeletedPayload;
}

/** Every event type known to the type system (the catalog plus augmentations). */
export type EventType = keyof EventMap & string;

/**
 * The built-in catalog's runtime schemas.
 * @internal
 */
export const BUILTIN_SCHEMAS: Record<keyof BuiltinEventMap, PayloadSchema> = {
  'repo.status_changed': {
    from: field.oneOf(REPOSITORY_STATUSES),
    to: field.oneOf(REPOSITORY_STATUSES),
    error_msg: field.optional(field.string()),
  },
  'task.status_changed': {
    from: field.oneOf(TASK_STATUSES),
    to: field.oneOf(TASK_STATUSES),
    error_msg: field.optional(field.string()),
    started_at: field.optional(field.number(0)),
    completed_at: field.optional(field.number(0)),
  },
  'doc.created': { doc_id: field.string(), title: field.string(), filename: field.string() },
  'task.progress': {
    phase: field.string(),
    percent: field.optional(field.number(0, 100)),
    message: field.optional(field.string()),
  },
  'task.queue_changed': { ahead: field.number(0), queued: field.optional(field.number(1)) },
  'log.append': { level: field.oneOf(LOG_LEVELS), message: field.string() },
  'repo.created': { name: field.string(), url: field.optional(field.string()) },
  'repo.deleted': {},
};
