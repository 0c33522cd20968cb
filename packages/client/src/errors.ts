import { RepoPulseError } from '@repopulse/events-core';

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
 * A bad argument of `createEventStream` itself (a URL that does not parse, an unknown option name,
 * a negative or non-numeric option) is not an `EventStreamError`: it throws the `OptionsError` of
 * `@repopulse/events-core`, as every RepoPulse factory does.
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
  | 'retries_exhausted';

/**
 * The error class of the stream's failures, passed to `onError` and thrown by the async
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
export class EventStreamError extends RepoPulseError<EventStreamErrorCode> {
  // `declare`: assigned in the constructor, no class-field boilerplate in the bundle.
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
      code,
      `${url ? `GET ${url}:` : 'event stream'} ${code}${status ? ` (HTTP ${status})` : ''}${detail ? `: ${detail}` : ''}`,
      options,
    );
    this.name = 'EventStreamError'; // kept when a bundler renames the class
    this.fatal = fatal;
    this.status = status || undefined;
    this.url = url;
  }
}
