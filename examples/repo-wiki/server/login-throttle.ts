import { AppError } from './app-error';

/** Options of {@link createLoginThrottle}. */
export interface LoginThrottleOptions {
  /** Failed logins a client address may make per window before it is refused. */
  failures: number;
  /** The window, ms. @default 60000 */
  windowMs?: number;
  /** Addresses tracked at most (the oldest are forgotten beyond it). @default 10000 */
  maxClients?: number;
}

/** Refuses logins from a client address that failed too often recently. */
export interface LoginThrottle {
  /** Throws `too_many_requests` (429 with `Retry-After`) while `client` is over its failures. */
  check(client: string, now?: number): void;
  /** Records a failed login of `client`. */
  failed(client: string, now?: number): void;
}

/**
 * A sliding window of failed logins per client address. Successful logins do not reset it: with
 * the demo's `guest` account an attacker could otherwise interleave good logins to keep guessing.
 */
export function createLoginThrottle(options: LoginThrottleOptions): LoginThrottle {
  const windowMs = options.windowMs ?? 60_000;
  const maxClients = options.maxClients ?? 10_000;
  const failures = new Map<string, number[]>();
  const recent = (client: string, now: number) => {
    const times = failures.get(client);
    if (!times) return [];
    while (times.length > 0 && (times[0] as number) <= now - windowMs) times.shift();
    if (times.length === 0) failures.delete(client);
    return times;
  };
  return {
    check(client, now = Date.now()) {
      const times = recent(client, now);
      if (times.length < options.failures) return;
      const retryAfterSeconds = Math.max(1, Math.ceil(((times[0] as number) + windowMs - now) / 1000));
      throw new AppError('too_many_requests', 'too many failed logins, try again later', {
        retryAfterSeconds,
      });
    },
    failed(client, now = Date.now()) {
      const times = recent(client, now);
      times.push(now);
      if (times.length > options.failures) times.shift();
      failures.delete(client); // re-inserted last: the map's order is the order of last failure
      failures.set(client, times);
      if (failures.size > maxClients) failures.delete(failures.keys().next().value as string);
    },
  };
}
