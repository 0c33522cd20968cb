/**
 * Why an {@link EventStreamError} was raised.
 *
 * Retried (the stream keeps going): `network` (fetch failed or the body broke off), `http_status`
 * (408, 429 or 5xx), `heartbeat_timeout` (no byte within `heartbeatTimeoutMs`), `headers`
 * (`options.headers()` threw), `bad_response` on a poll (not the long-poll JSON).
 *
 * Reported, delivery goes on: `bad_event` (an event's data is not a JSON envelope; it is skipped),
 * `handler` (one of your handlers threw).
 *
 * Fatal (the stream closes): `unauthorized` (401, also after one credential refresh),
 * `forbidden` (403), `not_found` (404), `bad_request` (400), `http_status` for any other 4xx,
 * `no_content` (204: the server asks the client to stop), `bad_response` (a 200 that is not
 * `text/event-stream` while `fallback` is `false`), `retries_exhausted` (`maxRetries` reached).
 *
 * Thrown by `createEventStream` itself: `invalid_argument` (a URL that does not parse, an
 * unknown option name, or a negative or non-numeric option; the message names it, and for an
 * unknown name lists the valid ones).
 */
export type EventStreamErrorCode =
  | 'network'
  | 'http_status'
  | 'heartbeat_timeout'
  | 'headers'
  | 'bad_response'
  | 'bad_event'
  | 'handler'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'bad_request'
  | 'no_content'
  | 'retries_exhausted'
  | 'invalid_argument';

/**
 * The one error class of `@repopulse/client`, passed to `onError` and thrown by the async
 * iterator when the stream closes on a fatal error. Messages start with `[repopulse]`.
 *
 * @example
 * ```ts
 * createEventStream(url, {
 *   onError(error) {
 *     if (error.fatal && error.code === 'unauthorized') redirectToLogin();
 *   },
 * });
 * ```
 */
export class EventStreamError extends Error {
  // `declare`: assigned in the constructor, no class-field boilerplate in the bundle.
  /** Machine-readable reason; stable across versions. */
  declare readonly code: EventStreamErrorCode;
  /** True when the stream closed because of this error (no more reconnects). */
  declare readonly fatal: boolean;
  /** The HTTP status that caused the error, when there was one. */
  declare readonly status: number | undefined;
  /**
   * The stream URL the error happened on, without its query (it may hold an access token);
   * undefined for errors thrown by `createEventStream` itself.
   */
  declare readonly url: string | undefined;

  /**
   * @param detail Appended to the message (the server's error message, the option at fault).
   * @param options `cause`: the underlying error; `url`: the stream URL, named in the message.
   * @example
   * ```ts
   * new EventStreamError('not_found', true, 404, 'unknown repository', { url: 'https://x.test/api/events' }).message;
   * // '[repopulse] GET https://x.test/api/events: not_found (HTTP 404): unknown repository'
   * ```
   */
  constructor(
    code: EventStreamErrorCode,
    fatal = false,
    status?: number,
    detail?: string,
    options?: { cause?: unknown; url?: string },
  ) {
    const url = options?.url;
    super(
      `[repopulse] ${url ? `GET ${url}:` : 'event stream'} ${code}${status ? ` (HTTP ${status})` : ''}${detail ? `: ${detail}` : ''}`,
      options, // Error reads its `cause` only when present
    );
    this.name = 'EventStreamError';
    this.code = code;
    this.fatal = fatal;
    this.status = status || undefined;
    this.url = url;
  }
}
