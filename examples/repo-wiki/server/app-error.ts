import { RepoPulseError, type RepoPulseErrorOptions } from '@repopulse/events-core';

/** Error codes the REST API answers with. */
export type AppErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'csrf_rejected'
  | 'not_found'
  | 'bad_request'
  | 'conflict'
  | 'invalid_transition'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'too_many_connections';

const STATUS: Record<AppErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  csrf_rejected: 403,
  not_found: 404,
  bad_request: 400,
  conflict: 409,
  invalid_transition: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  too_many_connections: 429,
};

/** Options of {@link AppError}. */
export interface AppErrorOptions extends RepoPulseErrorOptions {
  /** Sent as `Retry-After` (seconds), for 429. */
  retryAfterSeconds?: number;
}

/**
 * The app's one error class: a typed `code` that maps to an HTTP status; rendered as
 * `{error:{code,message}}`.
 */
export class AppError extends RepoPulseError<AppErrorCode> {
  /** Seconds the client should wait before trying again (`Retry-After`), when known. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: AppErrorCode, message: string, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.retryAfterSeconds = options.retryAfterSeconds;
  }

  /** HTTP status for this error. */
  get status(): number {
    return STATUS[this.code];
  }
}
