import { RepoPulseError, type RepoPulseErrorOptions } from '@repopulse/events-core';

/**
 * Codes the handler itself answers with. Your `topic`/`authorize` callbacks may throw
 * {@link StreamHttpError} with any other code too.
 */
export type StreamHttpErrorCode =
  | 'invalid_parameter'
  | 'invalid_topic'
  | 'missing_token'
  | 'invalid_token'
  | 'token_expired'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'too_many_connections'
  | 'too_many_connections_per_key'
  | 'shutting_down'
  | 'bus_unavailable'
  | 'internal_error';

/** Options of {@link StreamHttpError}. */
export interface StreamHttpErrorOptions extends RepoPulseErrorOptions {
  /**
   * Extra response headers (e.g. `Retry-After`, `WWW-Authenticate`).
   * @example { 'Retry-After': '5' }
   */
  headers?: Record<string, string>;
}

/**
 * An HTTP refusal, sent before any stream byte as `status` with the JSON body
 * `{"error":{"code","message"}}`. Throw it from `topic()` or `authorize()` to refuse a request
 * (401 no/invalid credentials, 403 not allowed, 404 unknown repository, 400 bad parameters).
 * `message` as sent to the client is {@link StreamHttpError.publicMessage} (without the
 * `[repopulse]` log prefix): never put secrets in it.
 *
 * @example
 * ```ts
 * authorize: async (req) => {
 *   if (!(await repos.exists(req.params.id))) throw new StreamHttpError(404, 'not_found', 'unknown repository');
 * }
 * ```
 */
export class StreamHttpError<
  Code extends string = StreamHttpErrorCode | (string & {}),
> extends RepoPulseError<Code> {
  /** HTTP status, 400–599. */
  readonly status: number;
  /** The message as sent to the client. */
  readonly publicMessage: string;
  /** Extra response headers. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(status: number, code: Code, message: string, options: StreamHttpErrorOptions = {}) {
    super(code, message, options);
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`[repopulse] StreamHttpError status must be 400-599, got ${status}`);
    }
    this.status = status;
    this.publicMessage = message;
    this.headers = { ...options.headers };
  }
}

/** True for a {@link StreamHttpError}, also one from another copy of this package. */
export function isStreamHttpError(error: unknown): error is StreamHttpError {
  return (
    error instanceof StreamHttpError ||
    (error instanceof Error &&
      error.name === 'StreamHttpError' &&
      typeof (error as { status?: unknown }).status === 'number' &&
      typeof (error as { code?: unknown }).code === 'string')
  );
}
