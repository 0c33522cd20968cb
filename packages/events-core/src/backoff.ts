/**
 * How {@link computeBackoff} grows a delay and how much of it is random: capped exponential
 * backoff with jitter, the one retry schedule of every RepoPulse package.
 */
export interface BackoffPolicy {
  /** The delay of attempt 0, in milliseconds (before jitter). */
  initialMs: number;
  /** The longest delay, in milliseconds; an `initialMs` above it is used as the cap instead. */
  maxMs: number;
  /**
   * Growth per attempt.
   * @default 2
   */
  factor?: number;
  /**
   * The random share of each delay, from 0 to 1: `1` is full jitter (uniform in `[0, d)`), `0.5`
   * equal jitter (`[d/2, d)`), `0` none (exactly `d`).
   * @default 1
   */
  jitter?: number;
}

/**
 * The delay before retry number `attempt` (0 for the first): `d = min(max(maxMs, initialMs),
 * initialMs × factor^attempt)`, of which the `jitter` share is random, `d × (1 − jitter + jitter ×
 * random())`, rounded down. Pure and dependency-free: pass `random` to make it deterministic.
 *
 * @example
 * ```ts
 * computeBackoff(3, { initialMs: 1000, maxMs: 30000 }, () => 0.5); // 4000 (full jitter)
 * computeBackoff(3, { initialMs: 1000, maxMs: 30000, jitter: 0.5 }, () => 0); // 4000 (equal jitter)
 * computeBackoff(9, { initialMs: 50, maxMs: 2000, jitter: 0 }); // 2000
 * ```
 */
export function computeBackoff(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const { initialMs, maxMs, factor = 2, jitter = 1 } = policy;
  // `initialMs &&`: 0 × factor^attempt is NaN once the power overflows to Infinity.
  const ceiling = initialMs && Math.min(Math.max(maxMs, initialMs), initialMs * factor ** attempt);
  return Math.floor(ceiling * (1 - jitter + jitter * random()));
}
