import type { AnyEnvelope } from '@repopulse/events-core';
import { isAfter } from '@repopulse/events-core/wire';
import { EventStreamError } from './errors';
import { createEventStream } from './stream';
import type { EventStream, EventStreamOptions, EventStreamState, StreamOpener } from './types';

/** Options of {@link createLiveResource}: the snapshot, the reducer, the stream and its options. */
export interface LiveResourceOptions<S>
  extends Omit<EventStreamOptions, 'lastEventId' | 'onReset' | 'signal'> {
  /**
   * The event stream URL (the topic the snapshot belongs to).
   * @example `/api/repositories/${id}/events`
   */
  url: string | URL;
  /**
   * Loads the snapshot (it becomes `data`). It must carry the topic head `position` it was read at:
   * the stream starts from exactly there. Called again after a `reset`; `signal` aborts when the load is no longer
   * wanted (`close()`, `reload()`, another reset).
   * @example (signal) => fetch(`/api/repositories/${id}`, { signal }).then((res) => res.json())
   */
  load(signal: AbortSignal): Promise<S & { position: string }>;
  /**
   * Applies one event to the state and returns the new state (do not mutate). Only events after
   * the snapshot's position reach it, in order, once; keep it idempotent anyway.
   * @example (repo, event) => event.type === 'repo.status_changed' ? { ...repo, status: event.payload.to } : repo
   */
  apply(state: S, event: AnyEnvelope, position: string): S;
  /**
   * One connection for all tabs of this origin: `tabSharing()` of `@repopulse/client/share` (only
   * an app that imports it carries the tab-sharing code).
   * @default undefined (a stream of this tab alone)
   * @example tabSharing({ key: `user:${session.userId}` })
   */
  share?: StreamOpener;
}

/** The current value of a {@link LiveResource}; a new object after every change. */
export interface LiveResourceValue<S> {
  /** The snapshot with every event since applied; undefined until the first load resolved. */
  data: S | undefined;
  /** Position of the last event applied (or of the snapshot); `''` before the first load. */
  position: string;
  /** True while a snapshot load is in flight (first load, after a reset, `reload()`). */
  loading: boolean;
  /** The connection state of the stream (`connecting` until the first snapshot arrived). */
  state: EventStreamState;
  /** Why the resource stopped: the load's rejection, or the stream's fatal error. */
  error: unknown;
}

/** A snapshot kept live by its event stream, made by {@link createLiveResource}. */
export interface LiveResource<S> {
  /** The current value; replaced (never mutated) on every change. */
  readonly current: LiveResourceValue<S>;
  /** Calls `listener` after every change of `current`. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Loads the snapshot again and streams from its position (e.g. after `error`). */
  reload(): void;
  /** Stops for good: aborts a load in flight, closes the stream; idempotent. */
  close(): void;
}

/**
 * Keeps a snapshot live: loads it (with its topic head `position`), streams the topic from exactly
 * that position and applies every event with `apply`. On a `reset` (the server could not resume)
 * it loads the snapshot again while holding the events that arrive meanwhile, then applies those
 * after the new snapshot's position on top, so nothing is lost and nothing applied twice.
 *
 * Throws `EventStreamError('invalid_argument')` at once for a URL that does not parse or a bad
 * stream option, like `createEventStream`. A failed load stops the resource (`current.error`; the
 * stream is closed): call `reload()` to try again. `close()` at any time, mid-load included, leaves nothing running.
 *
 * @example
 * ```ts
 * const repo = createLiveResource({
 *   url: `/api/repositories/${id}/events`,
 *   load: (signal) => fetch(`/api/repositories/${id}`, { signal }).then((res) => res.json()),
 *   apply: (state, event) =>
 *     event.type === 'repo.status_changed' ? { ...state, status: event.payload.to } : state,
 * });
 * repo.subscribe(() => render(repo.current.data));
 * // later
 * repo.close();
 * ```
 */
export function createLiveResource<S>(options: LiveResourceOptions<S>): LiveResource<S> {
  const { url, load, apply, share, ...streamOptions } = options;
  if (share !== undefined && typeof share !== 'function')
    throw new EventStreamError(
      'invalid_argument',
      true,
      0,
      'share: pass tabSharing() of @repopulse/client/share',
    );
  // Checks the URL and the options now (a typed invalid_argument), without connecting.
  createEventStream(url, { ...streamOptions, signal: AbortSignal.abort() });
  const listeners = new Set<() => void>();
  let value: LiveResourceValue<S> = {
    data: undefined,
    position: '',
    loading: true,
    state: 'connecting',
    error: undefined,
  };
  let closed = false;
  let run = 0; // bumped by every start: a superseded start stops at its next await
  let stream: EventStream | undefined;
  let loader: AbortController | undefined;
  let held: [AnyEnvelope, string][] | undefined; // events arriving while a reset's load is in flight

  const set = (next: Partial<LiveResourceValue<S>>) => {
    value = { ...value, ...next };
    for (const listener of listeners) listener();
  };

  const drop = () => {
    const old = stream;
    stream = held = undefined;
    old?.close();
  };

  const stop = (error: unknown) => {
    drop();
    set({ loading: false, error, state: 'closed' });
  };

  // Resolves with the snapshot, or undefined when superseded (close, reload, another reset) or failed.
  const fetchSnapshot = async () => {
    loader?.abort();
    const controller = new AbortController();
    loader = controller;
    set({ loading: true });
    try {
      const snapshot = await load(controller.signal);
      if (!controller.signal.aborted) return snapshot;
    } catch (error) {
      if (!controller.signal.aborted) stop(error);
    }
  };

  const take = (event: AnyEnvelope, position: string) => {
    if (held) held.push([event, position]);
    else if (isAfter(position, value.position))
      set({ data: apply(value.data as S, event, position), position });
  };

  // The server could not resume: load again, holding what arrives, then apply it on top.
  const onReset = async () => {
    held = [];
    const snapshot = await fetchSnapshot();
    if (!snapshot || !held) return;
    let { position } = snapshot;
    let data: S = snapshot;
    for (const [event, at] of held) {
      if (isAfter(at, position)) {
        data = apply(data, event, at);
        position = at;
      }
    }
    held = undefined;
    set({ data, position, loading: false });
  };

  const start = async () => {
    const mine = ++run;
    drop();
    const snapshot = await fetchSnapshot();
    if (!snapshot) return;
    if (closed || mine !== run) return;
    set({ data: snapshot, position: snapshot.position, loading: false, error: undefined });
    const current = (share ?? createEventStream)(url, {
      ...streamOptions,
      lastEventId: snapshot.position,
      onReset: () => void onReset(),
    });
    stream = current;
    current.on('*', take);
    current.onState((state) => {
      if (stream === current) set({ state, error: current.error });
    });
    set({ state: current.state });
  };

  const begin = () => void start().catch(stop); // e.g. invalid share options: the resource stops
  begin();

  return {
    get current() {
      return value;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    reload() {
      if (!closed) begin();
    },
    close() {
      if (closed) return;
      closed = true;
      loader?.abort();
      stop(value.error);
      listeners.clear();
    },
  };
}
