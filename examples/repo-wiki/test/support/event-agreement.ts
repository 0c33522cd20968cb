import type { AnyEnvelope, EventBus, StreamPosition } from '@repopulse/events-core';
import { ZERO_POSITION } from '@repopulse/events-core/wire';
import type { Db, DocumentRow, LogRow, RepositoryRow, TaskRow } from '../../server/db';

/** One event of a topic with its position. */
export interface Replayed {
  position: StreamPosition;
  event: AnyEnvelope;
}

/** Every event `topic` holds, read by a subscriber from the topic's start up to its head. */
export async function replayFromStart(bus: EventBus, topic: string, timeoutMs = 20_000): Promise<Replayed[]> {
  const head = await bus.head(topic);
  const events: Replayed[] = [];
  if (head === ZERO_POSITION) return events;
  let reached!: () => void;
  let failed!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    reached = resolve;
    failed = reject;
  });
  const timer = setTimeout(() => failed(new Error(`replaying ${topic} did not reach ${head}`)), timeoutMs);
  const sub = await bus.subscribe(
    topic,
    (delivery) => {
      if (delivery.reset) {
        failed(new Error(`replaying ${topic} from its start got a ${delivery.reason} reset`));
        return;
      }
      events.push({ position: delivery.position, event: delivery.event });
      if (delivery.position === (head as StreamPosition)) reached();
    },
    { after: ZERO_POSITION },
  );
  try {
    await done;
  } finally {
    clearTimeout(timer);
    await sub.unsubscribe();
  }
  return events;
}

/**
 * What differs between a repository's events (replayed from its topic's start) and its rows:
 * each task's and the repository's last status, the statuses in between (every change goes
 * `from` the previous one's `to`), the documents, the stored log lines; and event ids delivered
 * twice. Empty when they agree.
 */
export function disagreements(events: readonly AnyEnvelope[], db: Db, repoId: number): string[] {
  const problems: string[] = [];
  const ids = new Set<string>();
  for (const e of events) {
    if (ids.has(e.id)) problems.push(`event ${e.id} (${e.type}) delivered twice`);
    ids.add(e.id);
  }
  const repo = db.prepare('SELECT * FROM repositories WHERE id = ?').get(repoId) as RepositoryRow;
  const tasks = db.prepare('SELECT * FROM tasks WHERE repo_id = ? ORDER BY ord').all(repoId) as TaskRow[];
  const docs = db.prepare('SELECT * FROM documents WHERE repo_id = ?').all(repoId) as DocumentRow[];
  const logs = db.prepare('SELECT * FROM logs WHERE repo_id = ?').all(repoId) as LogRow[];

  let repoStatus = 'pending';
  const taskStatus = new Map<number, string>(tasks.map((t) => [t.id, 'pending']));
  for (const e of events) {
    if (e.type === 'repo.status_changed') {
      if (e.payload.from !== repoStatus)
        problems.push(`repo: ${e.payload.from} → ${e.payload.to} after ${repoStatus}`);
      repoStatus = e.payload.to;
    }
    if (e.type === 'task.status_changed') {
      const id = Number(e.task_id);
      const before = taskStatus.get(id);
      if (e.payload.from !== before)
        problems.push(`task ${id}: ${e.payload.from} → ${e.payload.to} after ${before}`);
      taskStatus.set(id, e.payload.to);
    }
  }
  if (repoStatus !== repo.status)
    problems.push(`repo: events say ${repoStatus}, the database ${repo.status}`);
  for (const t of tasks) {
    if (taskStatus.get(t.id) !== t.status)
      problems.push(`task ${t.id}: events say ${taskStatus.get(t.id)}, the database ${t.status}`);
  }
  const docEvents = events.filter((e) => e.type === 'doc.created').map((e) => Number(e.payload.doc_id));
  const docIds = docs.map((d) => d.id);
  if (JSON.stringify(docEvents.sort()) !== JSON.stringify(docIds.sort()))
    problems.push(`documents: events ${docEvents} , the database ${docIds}`);
  for (const line of logs) {
    if (!ids.has(line.event_id)) problems.push(`log line ${line.event_id} has no event`);
  }
  const logEvents = events.filter((e) => e.type === 'log.append').length;
  if (logEvents !== logs.length) problems.push(`log lines: ${logEvents} events, ${logs.length} rows`);
  return problems;
}
