import type { BackoffOptions } from './backoff';
import { EventStreamError } from './errors';
import type { EventStreamOptions, FallbackOptions, FetchLike } from './types';

/** The options of one stream with their defaults applied (see {@link resolveSettings}). */
export interface Settings {
  fetch: FetchLike;
  heartbeatTimeoutMs: number;
  maxRetries: number;
  backoff: Required<BackoffOptions>;
  /** Undefined with `fallback: false`. */
  fallback: Required<FallbackOptions> | undefined;
}

const OPTIONS =
  'lastEventId headers credentials fetch signal backoff maxRetries heartbeatTimeoutMs fallback pauseWhenHidden onReset onError';
const BACKOFF = 'initialMs maxMs factor';
const FALLBACK = 'afterFailures probeTimeoutMs upgradeIntervalMs waitSeconds';

/** Throws `invalid_argument` for a key of `given` that is not one of `names` (plain JS has no type check). */
function checkNames(scope: string, given: object | false | undefined, names: string) {
  const valid = names.split(' ');
  for (const key of Object.keys(given || {}))
    if (!valid.includes(key))
      throw new EventStreamError(
        'invalid_argument',
        true,
        0,
        `unknown option ${scope}${key}; valid: ${valid.join(', ')}`,
      );
}

/**
 * Applies the defaults. Throws `invalid_argument` for an unknown option name (listing the valid
 * ones) and for a negative or non-numeric number (naming the option).
 */
export function resolveSettings(options: EventStreamOptions): Settings {
  checkNames('', options, OPTIONS);
  checkNames('backoff.', options.backoff, BACKOFF);
  checkNames('fallback.', options.fallback, FALLBACK);
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
