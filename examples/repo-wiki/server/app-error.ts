import { RepoPulseError } from '@repopulse/events-core';

/** Error codes the REST API answers with. */
export type AppErrorCode =
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'bad_request'
  | 'conflict'
  | 'invalid_transition';

const STATUS: Record<AppErrorCode, number> = {
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  bad_request: 400,
  conflict: 409,
  invalid_transition: 409,
};

/**
 * The app's one error class: a typed `code` that maps to an HTTP status; rendered as
 * `{error:{code,message}}`.
 */
export class AppError extends RepoPulseError<AppErrorCode> {
  /** HTTP status for this error. */
  get status(): number {
    return STATUS[this.code];
  }
}
