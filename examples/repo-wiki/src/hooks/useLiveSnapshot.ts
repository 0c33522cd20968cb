import { type EventStreamState, useEventStream } from '@repopulse/client/react';
import type { AnyEnvelope } from '@repopulse/events-core';
import { useCallback, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { ApiError, api } from '../api';
import { reportApplied } from '../applied';

/** What {@link useLiveSnapshot} returns. */
export interface LiveSnapshot<S> {
  /** The current state: the snapshot with every event since applied. */
  data: S | undefined;
  /** Load error (e.g. 403, 404). */
  error: ApiError | undefined;
  /** `connecting | open | polling | probing | closed`. */
  connection: EventStreamState;
  /** Replaces local state (e.g. after a command). */
  update(fn: (state: S) => S): void;
}

/**
 * Loads a snapshot (which carries the topic head `position`), then follows the topic's events
 * from exactly that position, applying each payload to local state with `apply` (no refetch per
 * event). On a `reset` it re-fetches the snapshot, holding events that arrive meanwhile and
 * applying them on top. `apply` must be idempotent: an event racing the snapshot read may be in
 * both.
 */
export function useLiveSnapshot<S>(options: {
  snapshotUrl: string;
  streamUrl: string;
  read(json: unknown): S;
  apply(state: S, event: AnyEnvelope): S;
}): LiveSnapshot<S> {
  const { snapshotUrl, streamUrl } = options;
  const latest = useRef(options);
  latest.current = options;
  const [data, setData] = useState<S>();
  const [error, setError] = useState<ApiError>();
  const [position, setPosition] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const held = useRef<AnyEnvelope[] | null>(null); // non-null while a re-fetch is in flight
  const applied = useRef<AnyEnvelope[]>([]);

  const load = useCallback(async () => {
    const json = await api<{ position: string }>(snapshotUrl);
    return { state: latest.current.read(json), position: json.position };
  }, [snapshotUrl]);

  useEffect(() => {
    let live = true;
    setData(undefined);
    setPosition(null);
    setError(undefined);
    load().then(
      (snap) => {
        if (!live) return;
        setData(snap.state);
        setPosition(snap.position);
      },
      (e) => live && setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e))),
    );
    return () => {
      live = false;
    };
  }, [load]);

  const refetch = useCallback(async () => {
    if (held.current) return;
    held.current = [];
    try {
      const snap = await load();
      const pending = held.current;
      setData(pending.reduce(latest.current.apply, snap.state));
      applied.current.push(...pending);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(0, 'network', String(e)));
    } finally {
      held.current = null;
      setTick((t) => t + 1);
    }
  }, [load]);

  const { state, on } = useEventStream(position === null ? null : streamUrl, {
    lastEventId: position ?? undefined,
    onReset: () => void refetch(),
    fallback: { afterFailures: 5 },
  });

  useEffect(
    () =>
      on('*', (event) => {
        if (held.current) {
          held.current.push(event);
          return;
        }
        setData((s) => (s === undefined ? s : latest.current.apply(s, event)));
        applied.current.push(event);
        setTick((t) => t + 1);
      }),
    [on],
  );

  // Runs after React committed the DOM: the events applied so far are now visible.
  useLayoutEffect(() => {
    if (applied.current.length === 0) return;
    reportApplied(applied.current);
    applied.current = [];
  });

  const update = useCallback((fn: (state: S) => S) => setData((s) => (s === undefined ? s : fn(s))), []);
  return { data, error, connection: state, update };
}
