/** Exponential backoff with full jitter. */
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
 * The delay before reconnect attempt number `attempt` (0 for the first after a healthy
 * connection): full jitter, a uniformly random value in `[0, min(cap, base × factor^attempt))`
 * where `base` is the server's `retry:` value when it sent one and `cap` is
 * `max(maxMs, base)`. Pure: pass `random` to make it deterministic.
 *
 * @example
 * ```ts
 * computeBackoff(3, { initialMs: 1000, maxMs: 30000, factor: 2 }, () => 0.5); // 4000
 * ```
 */
export function computeBackoff(
  attempt: number,
  options: Required<BackoffOptions>,
  random: () => number = Math.random,
): number {
  const cap = Math.max(options.maxMs, options.initialMs);
  return Math.floor(random() * Math.min(cap, options.initialMs * options.factor ** attempt));
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
