import type { StreamHttpError } from '../errors';
import type { Admission } from './admission';
import type { DeadlineQueue } from './deadline-queue';
import type { ResolvedOptions } from './options';
import type { StatsCounters } from './stats';
import type { TopicRegistry } from './topic-registry';

/** The state one handler's streams, long-polls and request flow share. */
export interface ServerParts<Req> {
  readonly options: ResolvedOptions<Req>;
  /** The bus's hubs, shared with every other handler of the bus. */
  readonly registry: TopicRegistry;
  readonly counters: StatsCounters;
  /** Token expiries, `maxDurationMs` ends and long-poll waits, on one timer. */
  readonly deadlines: DeadlineQueue;
  readonly admission: Admission;
  /** The 503 for a failed bus call (reported to `onError`, a closed bus once). */
  unavailable(error: unknown): StreamHttpError;
}

/**
 * When a stream or long-poll opened now must end for `maxDurationMs`: uniformly in 0.9–1.0 ×
 * `maxDurationMs` from now, so streams opened together end apart. `Infinity` when it is not set.
 */
export function durationEnd(maxDurationMs: number | undefined, now: number): number {
  if (maxDurationMs === undefined) return Number.POSITIVE_INFINITY;
  return now + Math.floor(maxDurationMs * (0.9 + 0.1 * Math.random()));
}
