import { useLiveResource } from '@repopulse/client/react';
import { tabSharing } from '@repopulse/client/share';
import type { AnyEnvelope } from '@repopulse/events-core';
import { type FormEvent, useState } from 'react';
import { api, session } from '../api';
import { recordApplied, useReportApplied } from '../applied';
import { ConnectionIndicator } from '../components/ConnectionIndicator';
import { StatusBadge } from '../components/StatusBadge';
import { Link } from '../router';
import type { Repository } from '../types';

/** Applies one list-level event to the repository list (idempotent; a replayed event the list already shows changes nothing). */
export function applyListEvent(list: Repository[], event: AnyEnvelope): Repository[] {
  const id = Number(event.repo_id);
  switch (event.type) {
    case 'repo.created': {
      if (list.some((r) => r.id === id)) return list;
      const row: Repository = {
        id,
        name: event.payload.name,
        url: event.payload.url ?? '',
        status: 'pending',
        error_msg: null,
        owner: '',
        created_at: event.ts,
      };
      return [row, ...list].sort((a, b) => b.id - a.id);
    }
    case 'repo.deleted':
      return list.filter((r) => r.id !== id);
    case 'repo.status_changed': {
      // Only from the status it names: a replayed change the list already shows is skipped.
      const { from, to, error_msg } = event.payload;
      if (!list.some((r) => r.id === id && r.status === from)) return list;
      return list.map((r) => (r.id === id ? { ...r, status: to, error_msg: error_msg ?? null } : r));
    }
    default:
      return list;
  }
}

/** The list snapshot: the repositories and the topic head they were read at. */
type RepositoryList = { position: string; repositories: Repository[] };

/** The repository list: live badges, live appearance and removal, add form. */
export function Home() {
  const live = useLiveResource({
    url: '/api/events',
    load: (signal) => api<RepositoryList>('/api/repositories', { signal }),
    apply: recordApplied((list: RepositoryList, event) => ({
      ...list,
      repositories: applyListEvent(list.repositories, event),
    })),
    fallback: { afterFailures: 5 },
    share: tabSharing({ key: session.user }),
  });
  useReportApplied();
  const { state: connection } = live;
  const error = live.error as Error | undefined;
  const data = live.data?.repositories;
  const [url, setUrl] = useState('');
  const [formError, setFormError] = useState('');

  const add = async (e: FormEvent) => {
    e.preventDefault();
    setFormError('');
    try {
      await api('/api/repositories', { method: 'POST', body: { url } });
      setUrl('');
    } catch (err) {
      setFormError(err instanceof Error ? err.message : String(err));
    }
  };

  return (
    <main>
      <header className="page-head">
        <h1>Repositories</h1>
        <ConnectionIndicator state={connection} />
      </header>
      <form className="add-form" onSubmit={add}>
        <input
          aria-label="Repository URL"
          data-testid="add-url"
          placeholder="https://github.com/owner/name"
          value={url}
          onChange={(e) => setUrl(e.target.value)}
        />
        <button type="submit" data-testid="add-submit" disabled={url.trim() === ''}>
          Add repository
        </button>
        {formError && <span className="error">{formError}</span>}
      </form>
      {error && <p className="error">Could not load repositories: {error.message}</p>}
      {!data && !error && <p>Loading…</p>}
      {data && data.length === 0 && <p className="muted">No repositories yet. Add one above.</p>}
      {data && data.length > 0 && (
        <table className="repo-list" data-testid="repo-list">
          <thead>
            <tr>
              <th>Name</th>
              <th>URL</th>
              <th>Status</th>
            </tr>
          </thead>
          <tbody>
            {data.map((repo) => (
              <tr key={repo.id} data-testid={`repo-row-${repo.id}`}>
                <td>
                  <Link to={`/repos/${repo.id}`}>{repo.name}</Link>
                </td>
                <td className="muted mono">{repo.url}</td>
                <td>
                  <StatusBadge status={repo.status} testId={`repo-status-${repo.id}`} />
                  {repo.error_msg && <span className="error small"> {repo.error_msg}</span>}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}
