import { createLiveResource, type LiveResource } from '@repopulse/client';
import { applyRepoEvent, type RepoDetailState } from '../../src/pages/RepoDetail';

/** A repository page's live state in Node: its snapshot over REST, its events over real SSE. */
export interface LivePage {
  /** The snapshot with every event since applied (the page's reducer). */
  readonly resource: LiveResource<RepoDetailState>;
  /** The position its first snapshot carried. */
  readonly start: Promise<string>;
  /** Ids of the events the stream delivered to it, in order. */
  readonly received: string[];
}

/**
 * Opens what the repository page opens (`useLiveResource` with the page's `applyRepoEvent`), SSE
 * only (no long-poll fallback), with a Bearer token and quick reconnects.
 */
export function openLivePage(baseUrl: string, token: string, repoId: number): LivePage {
  const received: string[] = [];
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/json' };
  let started!: (position: string) => void;
  const start = new Promise<string>((resolve) => {
    started = resolve;
  });
  const resource = createLiveResource<RepoDetailState>({
    url: `${baseUrl}/api/repositories/${repoId}/events`,
    headers: { Authorization: `Bearer ${token}` },
    backoff: { initialMs: 100, maxMs: 1000 },
    fallback: false,
    onError: () => {},
    load: async (signal) => {
      const res = await fetch(`${baseUrl}/api/repositories/${repoId}`, { headers, signal });
      if (!res.ok) throw new Error(`snapshot: HTTP ${res.status}`);
      const snapshot = (await res.json()) as Omit<RepoDetailState, 'deleted'> & { position: string };
      started(snapshot.position);
      return { ...snapshot, deleted: false };
    },
    apply: (state, event) => {
      received.push(event.id);
      return applyRepoEvent(state, event);
    },
  });
  return { resource, start, received };
}
