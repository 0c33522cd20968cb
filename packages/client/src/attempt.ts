import type { EventStreamError, EventStreamErrorCode } from './errors';
import type { Settings } from './options';
import type { EventStreamOptions, StreamItem } from './types';

/**
 * What the state machine hands one transport attempt (an SSE connection or one long-poll): the
 * stream's settings, its credentials and what to ask for, read-only, and the calls through which the attempt reports what it received. The
 * machine alone keeps the state these calls change.
 */
export interface Attempt extends Settings, Pick<EventStreamOptions, 'headers' | 'credentials'> {
  /** The stream URL, absolute, with its query. */
  readonly href: string;
  /** The resume position when the attempt started. */
  readonly lastEventId: string;
  /** True on the one attempt after a 401: the headers are asked for with `refresh: true`. */
  readonly refresh: boolean;
  /** Aborts the request: `close()`, a pause, or the attempt's own watchdog. */
  readonly controller: AbortController;
  /** A 200 with the protocol's answer (an event stream, or the long-poll JSON). */
  answered(): void;
  /** The first SSE byte arrived: the stream is `open`. */
  opened(): void;
  /** The connection was healthy (it delivered an event or stayed open long enough): retries start over. */
  healthy(): void;
  /** The resume position moved to `position`; `item`, when given, is delivered. */
  deliver(position: string, item?: StreamItem): void;
  /** The server's `retry:` field: the new base delay of the backoff, in ms. */
  retry(ms: number): void;
  /** Reports an error that does not end the attempt. */
  report(error: EventStreamError): void;
  /** Makes an error of this stream. */
  error(
    code: EventStreamErrorCode,
    fatal?: boolean,
    status?: number,
    detail?: string,
    cause?: unknown,
  ): EventStreamError;
}

/**
 * How one attempt ended; the state machine decides what comes next from it. No attempt throws.
 * - `again`: try again at once (the one credential refresh after a 401).
 * - `next`: a poll was answered; poll again at once.
 * - `poll`: switch to long-polling at once; `reason` says why (also kept as `stream.reason`).
 * - `retry`: failed or ended; back off (plus `retryAfterMs`, a refusal's `Retry-After`), then try
 *   again (`error`, when there is one, is reported).
 * - `bad_response`: a 200 that is not the protocol (`message` says what it was).
 * - `closed`: fatal; the stream closes with `error`.
 */
export type Outcome =
  | { to: 'again' }
  | { to: 'next' }
  | { to: 'poll'; reason: EventStreamError }
  | { to: 'retry'; error?: EventStreamError; retryAfterMs?: number }
  | { to: 'bad_response'; message: string }
  | { to: 'closed'; error: EventStreamError };
