import type { BackoffOptions } from './backoff';
import type { EventStreamError, EventStreamErrorCode } from './errors';
import type { EventStreamOptions, EventStreamState, FallbackOptions, FetchLike, StreamItem } from './types';

/** The options of one stream with their defaults applied (see `resolveSettings`). */
export interface Settings {
  fetch: FetchLike;
  heartbeatTimeoutMs: number;
  maxRetries: number;
  backoff: Required<BackoffOptions>;
  /** Undefined with `fallback: false`. */
  fallback: Required<FallbackOptions> | undefined;
}

/**
 * What one transport attempt (an SSE connection or one long-poll) ended with; the state machine
 * decides what comes next from it. No attempt throws.
 * - `again`: try again at once (the one credential refresh after a 401).
 * - `next`: a poll was answered; poll again at once.
 * - `poll`: switch to long-polling at once; `reason` says why (also kept as `stream.reason`).
 * - `retry`: failed or ended; back off, then try again (`error`, when there is one, is reported).
 * - `closed`: fatal; the stream closes with `error`.
 */
export type Outcome =
  | { to: 'again' }
  | { to: 'next' }
  | { to: 'poll'; reason: EventStreamError }
  | { to: 'retry'; error?: EventStreamError }
  | { to: 'closed'; error: EventStreamError };

/** The state one stream's transports and state machine share. */
export interface Session {
  /** The stream URL, absolute. */
  readonly href: string;
  readonly settings: Settings;
  readonly options: EventStreamOptions;
  /** The resume position: the last event id received. */
  cursor: string;
  /** Base delay of the backoff: `backoff.initialMs`, replaced by the server's `retry:`. */
  base: number;
  /** Extra delay the last refused answer asked for (`Retry-After`), in ms. */
  retryAfter: number;
  /** True between a 401 and the next answer: the headers are asked for with `refresh: true`. */
  refresh: boolean;
  /** Consecutive failed attempts since the last healthy connection or answered poll (the backoff exponent). */
  attempt: number;
  /** Consecutive failed SSE attempts, for `fallback.afterFailures`. */
  failures: number;
  /** Consecutive 200 answers that were neither an event stream nor the long-poll JSON. */
  foreign: number;
  /** Why the stream is in its current state (undefined while `open`). */
  reason: EventStreamError | undefined;
  /** The one request in flight (never two), aborted by `close()` and by a pause. */
  ctl: AbortController | undefined;
  /** True once closed for good. */
  readonly closed: boolean;
  /** Current state. */
  readonly state: EventStreamState;
  /** Moves to `state` and tells the state listeners (no-op when already there or closed). */
  enter(state: EventStreamState): void;
  /** Hands an event or reset to handlers, `onReset` and iterators. */
  deliver(item: StreamItem): void;
  /** Reports an error to `onError`. */
  report(error: EventStreamError): void;
  /** Makes an error of this stream. */
  error(
    code: EventStreamErrorCode,
    fatal?: boolean,
    status?: number,
    detail?: string,
    cause?: unknown,
  ): EventStreamError;
  /** Reports `error`, then closes for good with it. */
  fail(error: EventStreamError): void;
  /** True while offline (or hidden, with `pauseWhenHidden`): no request then. */
  paused(): boolean;
  /** Waits `ms`, or until woken (online, visible, close); forever when `ms` is undefined. */
  sleep(ms?: number): Promise<void>;
}
