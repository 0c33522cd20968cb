import { checkOptions, requireOption } from '@repopulse/events-core/bus-kit';
import type { BackoffOptions } from './backoff';
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

const SCOPE = 'createEventStream';
const NUMBER = 'a number ≥ 0';

/** Requires `value`, option `name`, to be a number ≥ 0 (or absent: its default applies). */
const checkNumber = (name: string, value: unknown) =>
  value === undefined || requireOption(SCOPE, name, typeof value === 'number' && value >= 0, NUMBER, value);

/**
 * Checks the nested options object `given` (`prefix`: `backoff.` or `fallback.`) against its
 * defaults, every one a number ≥ 0, and returns it with the defaults applied.
 */
function withDefaults<T extends object>(prefix: string, given: Partial<T> | undefined, defaults: T): T {
  checkOptions(SCOPE, given, { optional: Object.keys(defaults) }, prefix);
  for (const name in given) checkNumber(prefix + name, given[name]);
  return { ...defaults, ...given };
}

/**
 * Resolves the stream URL (against the page's, in a browser) and applies the option defaults.
 * Throws `OptionsError` (of `@repopulse/events-core`) for a URL that does not parse, an unknown
 * option name (listing the valid ones) and a number that is negative or not a number (naming it).
 */
export function resolveSettings(input: string | URL, options: EventStreamOptions): [URL, Settings] {
  let endpoint: URL | undefined;
  try {
    endpoint = new URL(input, globalThis.location?.href);
  } catch {}
  requireOption(SCOPE, 'url', !!endpoint, 'an absolute URL, or a path in a page', input);
  const { heartbeatTimeoutMs = 37_500, maxRetries = 1 / 0, fallback } = options; // 1 / 0: Infinity
  checkOptions(SCOPE, options, {
    optional: [
      'lastEventId',
      'headers',
      'credentials',
      'fetch',
      'signal',
      'backoff',
      'maxRetries',
      'heartbeatTimeoutMs',
      'fallback',
      'pauseWhenHidden',
      'onReset',
      'onError',
    ],
  });
  checkNumber('heartbeatTimeoutMs', heartbeatTimeoutMs);
  checkNumber('maxRetries', maxRetries);
  return [
    endpoint!,
    {
      fetch: options.fetch ?? ((input, init) => fetch(input, init)),
      heartbeatTimeoutMs,
      maxRetries,
      backoff: withDefaults('backoff.', options.backoff, { initialMs: 1000, maxMs: 30_000, factor: 2 }),
      fallback:
        fallback === false
          ? undefined
          : withDefaults('fallback.', fallback, {
              afterFailures: 3,
              probeTimeoutMs: 5000,
              upgradeIntervalMs: 60_000,
              waitSeconds: 25,
            }),
    },
  ];
}
