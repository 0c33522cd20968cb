// The API sends the server's rows as they are; these name the parts the UI reads. A type-only
// import: no server code reaches the UI bundle.
import type { DocumentRow, LogRow, RepositoryRow, TaskRow } from '../server/db';

/** A repository as the API returns it (the server-internal clone bookkeeping left out). */
export type Repository = Omit<RepositoryRow, 'instance_id' | 'updated_at' | 'topic_nonce'>;

/**
 * A task as the API returns it (the server-internal run bookkeeping left out), plus its place
 * in the run queue while `queued` (from `task.queue_changed` events: tasks that start before it).
 */
export type Task = Omit<TaskRow, 'instance_id' | 'updated_at'> & { queue_ahead?: number };

/** A document summary (a document without its Markdown). */
export type DocumentSummary = Omit<DocumentRow, 'content'>;

/** A document with its Markdown. */
export type DocumentFull = DocumentRow;

/** A log line. */
export type LogLine = Pick<LogRow, 'event_id' | 'task_id' | 'level' | 'message' | 'ts'>;

/** A logged-in user. */
export interface User {
  username: string;
  role: 'admin' | 'member';
}
