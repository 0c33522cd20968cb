/**
 * The exit status of every `repopulse` command. Stable across versions, so scripts can branch
 * on them.
 *
 * | code | name | when |
 * | --- | --- | --- |
 * | 0 | `ok` | done (replay reached the head; tail stopped by Ctrl-C is 130) |
 * | 1 | `failure` | anything else (the server answered something that is not a RepoPulse stream) |
 * | 2 | `usage` | bad command line (unknown option, bad URL, malformed position or header) |
 * | 3 | `unauthorized` | HTTP 401: no or invalid credentials |
 * | 4 | `forbidden` | HTTP 403: not allowed to read this stream |
 * | 5 | `not_found` | HTTP 404: no such stream |
 * | 6 | `bad_request` | HTTP 400 (or another 4xx): the server refused the parameters |
 * | 7 | `unavailable` | the server cannot be reached, or answers 5xx, or `--max-retries` ran out |
 * | 130 | `interrupted` | stopped by SIGINT (Ctrl-C) |
 */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  unauthorized: 3,
  forbidden: 4,
  not_found: 5,
  bad_request: 6,
  unavailable: 7,
  interrupted: 130,
} as const;

/** A name of {@link EXIT_CODES}. */
export type ExitCodeName = keyof typeof EXIT_CODES;

/** The exit code name for an HTTP status the server refused a request with. */
export function exitCodeOfStatus(status: number): ExitCodeName {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 408 || status === 429 || status >= 500) return 'unavailable';
  if (status >= 400) return 'bad_request';
  return 'failure';
}
