import type { AnyEnvelope, Envelope, EventDelivery, EventType, ResetDelivery } from '@repopulse/events-core';
import type { BackoffOptions } from './backoff';
import type { EventStreamError } from './errors';

/**
 * Connection state: `connecting` (no transport delivering right now: first connect, waiting to
 * reconnect, or paused while offline/hidden), `open` (SSE bytes flowing), `polling` (JSON
 * long-poll fallback working), `probing` (polling, with one SSE attempt in flight to upgrade
 * back), `closed` (for good: `close()`, the signal, or a fatal error). {@link EventStream.reason}
 * says why the stream is not `open`.
 */
export type EventStreamState = 'connecting' | 'open' | 'polling' | 'probing' | 'closed';

/**
 * What the async iterator yields: an event with its position, or a reset (the resume point was
 * gone; re-fetch your snapshot). The same shapes as a bus delivery.
 */
export type StreamItem = EventDelivery | ResetDelivery;

/**
 * The `reset` notice passed to `onReset`. On an `expired` reset of a topic that still retains
 * events it carries `retainedAfter` (the wire's `retained_after`): open the stream `after` it to
 * read the retained tail.
 */
export type ResetNotice = ResetDelivery;

/** Anything `fetch`-compatible: the global one, undici's, or a wrapper. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Context passed to the `headers` function. */
export interface HeadersContext {
  /** True on the one retry after a 401: return fresh credentials. */
  refresh: boolean;
}

/** Long-poll fallback tuning (see the README's "Fallback" section). */
export interface FallbackOptions {
  /**
   * Switch to long-polling after this many consecutive failed SSE attempts. SSE is retried once
   * right after the first successful poll (the failures may have been a server restart).
   * @default 3
   */
  afterFailures?: number;
  /**
   * An SSE attempt that yields no first byte within this many milliseconds (a buffering proxy)
   * switches to long-polling.
   * @default 5000
   */
  probeTimeoutMs?: number;
  /**
   * While polling, try SSE again this often (milliseconds, wall-clock, between two polls).
   * @default 60000
   */
  upgradeIntervalMs?: number;
  /**
   * The `wait` (seconds) each long-poll asks the server to hold the request open. A poll with no
   * answer after `wait` plus `heartbeatTimeoutMs` is aborted and retried.
   * @default 25
   */
  waitSeconds?: number;
}

/** Options of {@link createEventStream}. */
export interface EventStreamOptions {
  /**
   * Resume after this position (e.g. the `position` a snapshot endpoint returned). Omit to
   * receive live events only.
   * @example '1732842000000-0'
   */
  lastEventId?: string;
  /**
   * Request headers, or a function returning them, called before every connect and every poll.
   * After a 401 it is called once more with `{ refresh: true }`; a second 401 is fatal.
   * @example async ({ refresh }) => ({ Authorization: `Bearer ${await getToken(refresh)}` })
   */
  headers?: HeadersInit | ((context: HeadersContext) => HeadersInit | Promise<HeadersInit>);
  /**
   * Credentials mode of every request (`include` sends cookies cross-origin).
   * @default 'same-origin'
   */
  credentials?: RequestCredentials;
  /**
   * The `fetch` to use (Node: pass undici's, a proxy-aware one, or a test double).
   * @default globalThis.fetch
   */
  fetch?: FetchLike;
  /** Aborting it closes the stream, like `close()`. */
  signal?: AbortSignal;
  /**
   * Reconnect backoff (exponential, full jitter). The attempt counter resets once a connection
   * delivers an event or stays open 5 s, or a poll succeeds.
   * @default { initialMs: 1000, maxMs: 30000, factor: 2 }
   */
  backoff?: BackoffOptions;
  /**
   * Give up (fatal `retries_exhausted`) after this many consecutive failed attempts.
   * @default Infinity
   */
  maxRetries?: number;
  /**
   * Reconnect when no byte arrived for this long (milliseconds, wall-clock). Keep it above the
   * server heartbeat.
   * @default 37500 (2.5 × the server's 15 s heartbeat)
   */
  heartbeatTimeoutMs?: number;
  /**
   * JSON long-poll fallback on the same URL, or `false` to use SSE only.
   * @default { afterFailures: 3, probeTimeoutMs: 5000, upgradeIntervalMs: 60000, waitSeconds: 25 }
   */
  fallback?: FallbackOptions | false;
  /**
   * Pause (no connection) while the page is hidden; reconnect at once when visible again.
   * @default false
   */
  pauseWhenHidden?: boolean;
  /** Called when the server could not resume from the last position: re-fetch your snapshot. */
  onReset?: (reset: ResetNotice) => void;
  /**
   * Called with every error, transient or fatal (see {@link EventStreamError.fatal}).
   * @default logs errors that are not retried with console.error, at most one per code a minute
   * (the next line says how many were suppressed)
   */
  onError?: (error: EventStreamError) => void;
}

/**
 * Opens the event stream of a live resource or a hook: `createEventStream`, or the shared stream
 * of `tabSharing()` from `@repopulse/client/share`.
 */
export type StreamOpener = (url: string | URL, options: EventStreamOptions) => EventStream;

/** A typed event handler: the envelope and its stream position. */
export type EventHandler<E = AnyEnvelope> = (event: E, position: string) => void;

/** A live event stream, made by {@link createEventStream}. */
export interface EventStream extends AsyncIterable<StreamItem> {
  /**
   * Calls `handler` for every event of `type` (`'*'`: every event). Returns an unsubscribe function.
   * @example
   * ```ts
   * stream.on('task.progress', (e) => bar.set(e.payload.percent ?? 0));
   * ```
   */
  on<K extends EventType>(type: K, handler: EventHandler<Envelope<K>>): () => void;
  /** Calls `handler` for every event, whatever its type. Returns an unsubscribe function. */
  on(type: '*', handler: EventHandler<AnyEnvelope>): () => void;
  /**
   * Calls `listener` on every state change, with the new state and {@link EventStream.reason}.
   * Returns an unsubscribe function.
   * @example
   * ```ts
   * stream.onState((state, reason) => console.info(state, reason?.code));
   * ```
   */
  onState(listener: (state: EventStreamState, reason?: EventStreamError) => void): () => void;
  /** The current state. */
  readonly state: EventStreamState;
  /**
   * Why the stream is in its current state, when that is not `open`: the error behind the wait
   * in `connecting`, the cause of the fallback while `polling` or `probing` (e.g. `bad_response`
   * for a 200 that is not an event stream, `heartbeat_timeout` for a buffering proxy), the fatal
   * error once `closed`. `undefined` while `open` and before any failure.
   */
  readonly reason: EventStreamError | undefined;
  /** The resume position: the id of the last event received (`''` when none). */
  readonly lastEventId: string;
  /** The fatal error the stream closed on, if any. */
  readonly error: EventStreamError | undefined;
  /** Closes the connection for good; idempotent. */
  close(): void;
  /**
   * Yields every event (and reset) received from now on. Ends when the stream closes; throws
   * the fatal error if it closed on one. Leaving the loop (`break`) closes the stream.
   */
  [Symbol.asyncIterator](): AsyncIterator<StreamItem>;
}
