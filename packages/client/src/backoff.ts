export { computeBackoff } from '@repopulse/events-core/bus-kit';

/**
 * The stream's reconnect backoff: exponential with full jitter, `computeBackoff` of
 * `@repopulse/events-core/bus-kit` (a uniformly random delay in `[0, min(max(maxMs, base), base ×
 * factor^n))`, where `base` is the server's `retry:` value when it sent one).
 */
export interface BackoffOptions {
  /**
   * Base delay in milliseconds. A server `retry:` field replaces it.
   * @default 1000
   */
  initialMs?: number;
  /**
   * Largest delay in milliseconds (a server `retry:` above it wins).
   * @default 30000
   */
  maxMs?: number;
  /**
   * Growth factor per consecutive failure.
   * @default 2
   */
  factor?: number;
}

/**
 * Parses a `Retry-After` header (delay in seconds, or an HTTP date) into milliseconds from
 * `now`; 0 for a missing, malformed or past value.
 *
 * @example
 * ```ts
 * parseRetryAfter('3'); // 3000
 * parseRetryAfter(new Date(Date.now() + 5000).toUTCString()); // about 5000
 * ```
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number {
  if (!value) return 0;
  const ms = /^\s*\d+\s*$/.test(value) ? Number(value) * 1000 : Date.parse(value) - now;
  return Math.max(ms, 0) || 0;
}
