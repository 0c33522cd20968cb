import type { AnyEnvelope, Envelope, EventType } from '@repopulse/events-core';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EventStreamError } from './errors';
import { createEventStream } from './stream';
import type { EventHandler, EventStream, EventStreamOptions, EventStreamState, StreamOpener } from './types';

/** Options of {@link useEventStream}: the stream's options, and `share`. */
export interface UseEventStreamOptions extends EventStreamOptions {
  /**
   * One connection for all tabs of this origin: `tabSharing()` of `@repopulse/client/share`.
   * @default undefined (a stream of this tab alone)
   * @example tabSharing({ key: `user:${session.userId}` })
   */
  share?: StreamOpener;
}

/** The typed subscribe helper of {@link useEventStream}; stable for the component's lifetime. */
export interface SubscribeFn {
  <K extends EventType>(type: K, handler: EventHandler<Envelope<K>>): () => void;
  (type: '*', handler: EventHandler<AnyEnvelope>): () => void;
}

/** What {@link useEventStream} returns. */
export interface UseEventStreamResult {
  /** The connection state (`closed` while `url` is empty). */
  state: EventStreamState;
  /** The latest error reported by the stream (transient or fatal), cleared when it opens again. */
  error: EventStreamError | undefined;
  /**
   * Subscribes a handler to an event type (`'*'` for all); returns the unsubscribe function, so it
   * fits `useEffect` directly. Subscriptions survive a change of `url`.
   */
  on: SubscribeFn;
  /** The underlying stream (undefined before the first effect and while `url` is empty). */
  stream: EventStream | undefined;
}

/**
 * Opens an event stream for the component's lifetime (closed on unmount or when `url` changes;
 * pass `null` to stay disconnected). Options are read when the stream opens, except the callbacks
 * (`onReset`, `onError`, `headers`), which always call the latest ones you passed. With `share`,
 * the tabs of this origin share one connection (`tabSharing()` of
 * `@repopulse/client/share`).
 *
 * @example
 * ```tsx
 * function Progress({ repoId, position }: { repoId: string; position: string }) {
 *   const [percent, setPercent] = useState(0);
 *   const { state, on } = useEventStream(`/api/repositories/${repoId}/events`, { lastEventId: position });
 *   useEffect(() => on('task.progress', (e) => setPercent(e.payload.percent ?? 0)), [on]);
 *   return <p>{state === 'closed' ? 'offline' : `${percent}%`}</p>;
 * }
 * ```
 */
export function useEventStream(
  url: string | URL | null | undefined,
  options: UseEventStreamOptions = {},
): UseEventStreamResult {
  const latest = useRef(options);
  latest.current = options;
  const handlers = useRef(new Map<string, Set<EventHandler>>());
  const [stream, setStream] = useState<EventStream>();
  const [state, setState] = useState<EventStreamState>(url ? 'connecting' : 'closed');
  const [error, setError] = useState<EventStreamError>();
  const href = url ? String(url) : '';

  useEffect(() => {
    if (!href) {
      setState('closed');
      return;
    }
    const { headers, share, ...rest } = latest.current;
    // `share`: one connection for all tabs (`tabSharing()`), else a stream of this tab.
    const current = (share ?? createEventStream)(href, {
      ...rest,
      headers:
        typeof headers === 'function'
          ? (context) => (latest.current.headers as typeof headers)(context)
          : headers,
      onReset: (reset) => latest.current.onReset?.(reset),
      onError: (e) => {
        setError(e);
        latest.current.onError?.(e);
      },
    });
    const offState = current.onState((next) => {
      if (next === 'open' || next === 'polling') setError(undefined);
      setState(next);
    });
    const offEvents = current.on('*', (event, position) => {
      // Run every handler even if one throws; the stream reports the first throw as `handler`.
      let thrown: { error: unknown } | undefined;
      for (const key of [event.type, '*']) {
        for (const handler of handlers.current.get(key) ?? []) {
          try {
            handler(event, position);
          } catch (error) {
            thrown ??= { error };
          }
        }
      }
      if (thrown) throw thrown.error;
    });
    setStream(current);
    setState(current.state);
    return () => {
      offState();
      offEvents();
      current.close();
      setStream(undefined);
    };
  }, [href]);

  const on = useCallback(
    ((type: string, handler: EventHandler) => {
      const map = handlers.current;
      const set = map.get(type) ?? new Set();
      map.set(type, set.add(handler));
      return () => {
        set.delete(handler);
      };
    }) as SubscribeFn,
    [],
  );

  return { state, error, on, stream };
}

export type { LiveResourceOptions, LiveResourceValue } from './live-resource';
export type { EventStreamOptions, EventStreamState } from './types';
export { type UseLiveResourceResult, useLiveResource } from './use-live-resource';
