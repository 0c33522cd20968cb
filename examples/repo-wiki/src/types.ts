import type { RepositoryStatus, TaskStatus } from '@repopulse/events-core';

/** A repository as the API returns it. */
export interface Repository {
  id: number;
  name: string;
  url: string;
  status: RepositoryStatus;
  error_msg: string | null;
  owner: string;
  created_at: number;
}

/** A task as the API returns it. */
export interface Task {
  id: number;
  repo_id: number;
  kind: string;
  title: string;
  ord: number;
  status: TaskStatus;
  error_msg: string | null;
  phase: string | null;
  percent: number;
  started_at: number | null;
  completed_at: number | null;
}

/** A document summary. */
export interface DocumentSummary {
  id: number;
  repo_id: number;
  task_id: number | null;
  title: string;
  filename: string;
  created_at: number;
}

/** A document with its Markdown. */
export interface DocumentFull extends DocumentSummary {
  content: string;
}

/** A log line. */
export interface LogLine {
  event_id: string;
  task_id: number | null;
  level: string;
  message: string;
  ts: number;
}

/** A logged-in user. */
export interface User {
  username: string;
  role: 'admin' | 'member';
}
