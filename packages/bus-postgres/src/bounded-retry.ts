import { BusClosedError, BusUnavailableError, isRepoPulseError } from '@repopulse/events-core';
import { computeBackoff, withTimeout } from '@repopulse/events-core/bus-kit';
import { describeError, isRetryable } from './connection-errors';

/** SQLSTATE of a lock wait that ran into `lock_timeout` (the bus sets it on its own publishes). */
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * Server-side lock wait for an attempt with `remainingMs` left: a little less, so that Postgres
 * gives up waiting for the topic before the client stops waiting for Postgres.
 */
export function lockTimeoutFor(remainingMs: number): number {
  return Math.max(1, Math.ceil(remainingMs - Math.min(100, remainingMs / 10)));
}

/**
 * Runs `attempt` until it succeeds, retrying (with a short backoff) while the failure is a
 * connection failure ({@link isRetryable}) and `timeoutMs` has not passed; each attempt gets the
 * time left (counted from `startedAt`, e.g. when a queued publish was made). Rejects with `BusUnavailableError` (`what` in its message) when the time ran out or
 * the failure was not a connection failure (or another transaction held the topic past the
 * `lock_timeout` of {@link lockTimeoutFor}), with `BusClosedError` once `isClosed()`.
 *
 * A retried attempt must be safe to repeat: the bus's publishes are, by event id.
 */
export async function boundedRetry<T>(
  what: string,
  timeoutMs: number,
  isClosed: () => boolean,
  attempt: (remainingMs: number) => Promise<T>,
  startedAt: number = Date.now(),
): Promise<T> {
  const deadline = startedAt + timeoutMs;
  for (let tries = 0; ; tries++) {
    if (isClosed()) throw new BusClosedError();
    const remaining = deadline - Date.now();
    try {
      return await withTimeout(attempt(Math.max(1, remaining)), Math.max(1, remaining), () => {
        return new BusUnavailableError(
          `${what}: no answer from Postgres within ${timeoutMs} ms; it may or may not have been done`,
        );
      });
    } catch (error) {
      if (isRepoPulseError(error)) throw error;
      if ((error as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
        throw new BusUnavailableError(`${what}: another transaction held the topic for ${timeoutMs} ms`, {
          cause: error,
        });
      }
      const left = deadline - Date.now();
      if (!isRetryable(error) || left <= 0) {
        const waited = isRetryable(error) ? ` (Postgres stayed unreachable for ${timeoutMs} ms)` : '';
        throw new BusUnavailableError(`${what}: ${describeError(error)}${waited}`, { cause: error });
      }
      await new Promise((resolve) =>
        setTimeout(
          resolve,
          Math.min(computeBackoff(tries, { initialMs: 25, maxMs: 500, jitter: 0.5 }), left),
        ),
      );
    }
  }
}
