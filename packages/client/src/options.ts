import { EventStreamError } from './errors';
import type { Settings } from './session';
import type { EventStreamOptions } from './types';

/** Applies the defaults; throws `invalid_argument` (naming the option) for a negative or non-numeric number. */
export function resolveSettings(options: EventStreamOptions): Settings {
  const heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 37_500;
  const maxRetries = options.maxRetries ?? 1 / 0; // Infinity
  const backoff = { initialMs: 1000, maxMs: 30_000, factor: 2, ...options.backoff };
  const fallback =
    options.fallback === false
      ? undefined
      : {
          afterFailures: 3,
          probeTimeoutMs: 5000,
          upgradeIntervalMs: 60_000,
          waitSeconds: 25,
          ...options.fallback,
        };
  for (const [name, value] of Object.entries({ heartbeatTimeoutMs, maxRetries, ...backoff, ...fallback })) {
    if (!(value >= 0)) throw new EventStreamError('invalid_argument', true, 0, name);
  }
  return {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    heartbeatTimeoutMs,
    maxRetries,
    backoff,
    fallback,
  };
}
