import {
  aggregateRepositoryStatus,
  assertRepoTransition,
  type RepoStatusChangedPayload,
} from '@repopulse/events-core';
import type { Db, RepositoryRow, TaskRow } from '../db';
import type { RepoEvents } from '../event-outbox';

/**
 * Recomputes repository `repoId`'s status from its tasks (core's `aggregateRepositoryStatus`)
 * inside the transaction open on `db`: on a real change it updates the row and enqueues
 * `repo.status_changed` in that same transaction. Called in the transaction of every task change,
 * so the task's status, the repository's and both events commit together; SQLite runs one write
 * transaction at a time, so updates of one repository are serialized and their events are in
 * commit order. Returns the change, if any.
 */
export function recomputeRepositoryStatus(
  db: Db,
  events: RepoEvents,
  repoId: number,
): RepoStatusChangedPayload | undefined {
  const repo = db.prepare('SELECT * FROM repositories WHERE id = ?').get(repoId) as RepositoryRow | undefined;
  if (!repo) return undefined;
  const tasks = db.prepare('SELECT * FROM tasks WHERE repo_id = ?').all(repoId) as TaskRow[];
  const to = aggregateRepositoryStatus(repo.status, tasks);
  if (to === repo.status) return undefined;
  assertRepoTransition(repo.status, to);
  const change: RepoStatusChangedPayload = { from: repo.status, to };
  if (to === 'error') {
    const failed = tasks.filter((t) => t.status === 'failed').sort((a, b) => a.ord - b.ord);
    if (failed.length > 0)
      change.error_msg = `${failed.length} task(s) failed: ${failed[0]?.error_msg ?? ''}`;
  }
  db.prepare('UPDATE repositories SET status = ?, error_msg = ?, updated_at = ? WHERE id = ?').run(
    to,
    change.error_msg ?? null,
    Date.now(),
    repoId,
  );
  events.enqueue(repo, 'repo.status_changed', change);
  return change;
}
