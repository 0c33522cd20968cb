import { useLiveResource } from '@repopulse/client/react';
import { tabSharing } from '@repopulse/client/share';
import type { AnyEnvelope } from '@repopulse/events-core';
import { useEffect, useRef, useState } from 'react';
import { type ApiError, api, session } from '../api';
import { recordApplied, useReportApplied } from '../applied';
import { ActivityPanel } from '../components/ActivityPanel';
import { ConnectionIndicator } from '../components/ConnectionIndicator';
import { ProgressBar } from '../components/ProgressBar';
import { QueuePlace } from '../components/QueuePlace';
import { StatusBadge } from '../components/StatusBadge';
import { clock, duration } from '../format';
import { Link, navigate } from '../router';
import type { DocumentSummary, LogLine, Repository, Task } from '../types';

/** Everything the detail page shows. */
export interface RepoDetailState {
  repository: Repository;
  tasks: Task[];
  documents: DocumentSummary[];
  logs: LogLine[];
  deleted: boolean;
}

const MAX_LOGS = 200;

function patchTask(tasks: Task[], id: number, patch: (t: Task) => Task): Task[] {
  return tasks.map((t) => (t.id === id ? patch(t) : t));
}

/** `logs` with `line` in time order (a replayed older line goes where it belongs), the last 200. */
function withLogLine(logs: LogLine[], line: LogLine): LogLine[] {
  const last = logs.at(-1);
  if (!last || last.ts <= line.ts) return [...logs, line].slice(-MAX_LOGS);
  return [...logs, line].sort((a, b) => a.ts - b.ts).slice(-MAX_LOGS);
}

/**
 * Applies one `repo:<id>` event to the page state (payloads only, no refetch). Idempotent, and
 * harmless for an event the snapshot already shows: the snapshot's position is the last event
 * relayed to the bus, so events committed but not yet relayed when it was read are in the snapshot
 * and replayed after it. A status change applies only from the status it names as `from` (a
 * replayed one finds the status moved on and is skipped), progress only to a running task and
 * never backwards, documents and log lines once by id.
 */
export function applyRepoEvent(state: RepoDetailState, event: AnyEnvelope): RepoDetailState {
  const taskId = Number(event.task_id);
  switch (event.type) {
    case 'repo.status_changed':
      if (event.payload.from !== state.repository.status) return state;
      return {
        ...state,
        repository: {
          ...state.repository,
          status: event.payload.to,
          error_msg: event.payload.error_msg ?? null,
        },
      };
    case 'repo.deleted':
      return { ...state, deleted: true };
    case 'task.status_changed': {
      const p = event.payload;
      if (!state.tasks.some((t) => t.id === taskId && t.status === p.from)) return state;
      return {
        ...state,
        tasks: patchTask(state.tasks, taskId, (t) => ({
          ...t,
          status: p.to,
          error_msg: p.error_msg ?? null,
          started_at: p.started_at ?? null,
          completed_at: p.completed_at ?? null,
          ...(p.to === 'pending' ? { percent: 0, phase: null } : {}),
          ...(p.to === 'completed' ? { percent: 100 } : {}),
          ...(p.to === 'queued' ? {} : { queue_ahead: undefined }),
        })),
      };
    }
    case 'task.progress': {
      const { phase, percent } = event.payload;
      const moves = (t: Task) => t.status === 'running' && (percent === undefined || percent >= t.percent);
      if (!state.tasks.some((t) => t.id === taskId && moves(t))) return state;
      return {
        ...state,
        tasks: patchTask(state.tasks, taskId, (t) => ({ ...t, phase, percent: percent ?? t.percent })),
      };
    }
    case 'task.queue_changed':
      return {
        ...state,
        tasks: patchTask(state.tasks, taskId, (t) =>
          t.status === 'queued' ? { ...t, queue_ahead: event.payload.ahead } : t,
        ),
      };
    case 'doc.created': {
      const id = Number(event.payload.doc_id);
      if (state.documents.some((d) => d.id === id)) return state;
      const doc: DocumentSummary = {
        id,
        repo_id: state.repository.id,
        task_id: Number.isNaN(taskId) ? null : taskId,
        title: event.payload.title,
        filename: event.payload.filename,
        created_at: event.ts,
      };
      return { ...state, documents: [...state.documents, doc] };
    }
    case 'log.append': {
      if (state.logs.some((l) => l.event_id === event.id)) return state;
      const line: LogLine = {
        event_id: event.id,
        task_id: Number.isNaN(taskId) ? null : taskId,
        level: event.payload.level,
        message: event.payload.message,
        ts: event.ts,
      };
      return { ...state, logs: withLogLine(state.logs, line) };
    }
    default:
      return state;
  }
}

function LogPanel(props: { logs: LogLine[] }) {
  const ref = useRef<HTMLDivElement>(null);
  const count = props.logs.length;
  useEffect(() => {
    if (count > 0 && ref.current) ref.current.scrollTop = ref.current.scrollHeight;
  }, [count]);
  return (
    <div className="log-panel" ref={ref} data-testid="log-panel">
      {props.logs.map((l) => (
        <div key={l.event_id} className={`log log-${l.level}`}>
          <span className="log-time">{clock(l.ts)}</span> {l.message}
        </div>
      ))}
      {count === 0 && <div className="muted">No log lines yet.</div>}
    </div>
  );
}

/** One repository: live tasks with progress and timings, documents, log, commands. */
export function RepoDetail(props: { id: string }) {
  const live = useLiveResource({
    url: `/api/repositories/${props.id}/events`,
    load: async (signal) => {
      type Snapshot = Omit<RepoDetailState, 'deleted'> & { position: string };
      const snapshot = await api<Snapshot>(`/api/repositories/${props.id}`, { signal });
      return { ...snapshot, deleted: false };
    },
    apply: recordApplied(applyRepoEvent),
    fallback: { afterFailures: 5 },
    share: tabSharing({ key: session.user }),
  });
  useReportApplied();
  const { data, state: connection } = live;
  const error = live.error as ApiError | undefined; // a load error, or the stream's fatal error (same fields)
  const [commandError, setCommandError] = useState('');

  const command =
    (path: string, method = 'POST') =>
    async () => {
      setCommandError('');
      try {
        await api(path, { method });
        if (method === 'DELETE') navigate('/');
      } catch (err) {
        setCommandError(err instanceof Error ? err.message : String(err));
      }
    };

  if (error) {
    return (
      <main>
        <p className="error" data-testid="load-error" data-code={error.code}>
          {error.status} {error.message}
        </p>
        <Link to="/">← Repositories</Link>
      </main>
    );
  }
  if (!data) return <main>Loading…</main>;
  const { repository: repo, tasks, documents, logs } = data;
  const busy = repo.status === 'pending' || repo.status === 'cloning';
  return (
    <main data-testid="repo-detail">
      <p>
        <Link to="/">← Repositories</Link>
      </p>
      <header className="page-head">
        <h1>{repo.name}</h1>
        <StatusBadge status={repo.status} testId="repo-status" />
        <ConnectionIndicator state={connection} />
      </header>
      <p className="muted mono">{repo.url}</p>
      {repo.error_msg && <p className="error">{repo.error_msg}</p>}
      {data.deleted && (
        <p className="error" data-testid="deleted">
          This repository was deleted.
        </p>
      )}
      <div className="toolbar">
        <button
          type="button"
          data-testid="run-all"
          disabled={busy || data.deleted || !tasks.some((t) => t.status === 'pending')}
          onClick={command(`/api/repositories/${repo.id}/run-all`)}
        >
          Run all
        </button>
        <button
          type="button"
          className="danger"
          disabled={data.deleted}
          onClick={command(`/api/repositories/${repo.id}`, 'DELETE')}
        >
          Delete
        </button>
        {commandError && <span className="error">{commandError}</span>}
      </div>
      <section>
        <h2>Tasks</h2>
        <table className="tasks" data-testid="tasks">
          <thead>
            <tr>
              <th>Task</th>
              <th>Status</th>
              <th>Progress</th>
              <th>Started</th>
              <th>Took</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tasks.map((t) => (
              <tr key={t.id} data-testid={`task-${t.id}`} data-status={t.status}>
                <td>
                  {t.title}
                  {t.error_msg && <div className="error small">{t.error_msg}</div>}
                </td>
                <td>
                  <StatusBadge status={t.status} testId={`task-status-${t.id}`} />
                  {t.status === 'queued' && <QueuePlace task={t} tasks={tasks} />}
                </td>
                <td>
                  <ProgressBar percent={t.percent} phase={t.phase} />
                  <span className="muted small">{t.phase ?? ''}</span>
                </td>
                <td className="muted">{clock(t.started_at)}</td>
                <td className="muted">{duration(t.started_at, t.completed_at)}</td>
                <td className="actions">
                  {t.status === 'pending' && (
                    <button type="button" disabled={busy} onClick={command(`/api/tasks/${t.id}/run`)}>
                      Run
                    </button>
                  )}
                  {(t.status === 'completed' || t.status === 'failed' || t.status === 'canceled') && (
                    <button type="button" onClick={command(`/api/tasks/${t.id}/reset`)}>
                      Reset
                    </button>
                  )}
                  {(t.status === 'running' || t.status === 'queued') && (
                    <button type="button" onClick={command(`/api/tasks/${t.id}/force-reset`)}>
                      Force reset
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <div className="columns">
        <section>
          <h2>Documents</h2>
          <ul className="documents" data-testid="documents">
            {documents.map((d) => (
              <li key={d.id} data-testid={`doc-${d.id}`}>
                <Link to={`/documents/${d.id}`}>{d.title}</Link>{' '}
                <span className="muted mono">{d.filename}</span>
              </li>
            ))}
            {documents.length === 0 && <li className="muted">None yet.</li>}
          </ul>
        </section>
        <section>
          <h2>Log</h2>
          <LogPanel logs={logs} />
        </section>
      </div>
      <ActivityPanel repoId={repo.id} tasks={tasks} />
    </main>
  );
}
