import { checkOptions, requireOption } from '@repopulse/events-core/bus-kit';
import { CHECKS, type Check } from './checks';
import { type CheckContext, CheckFailure, createContext } from './context';
import type { ConformanceFetch } from './http';

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /**
   * The events URL of a topic that already holds at least `minEvents` retained events (nothing is
   * published: the kit only reads). Credentials go in `token`, not in the URL.
   * @example 'https://api.example.com/api/repositories/42/events'
   */
  url: string;
  /**
   * A stream token (sent as `Authorization: Bearer`) that may read `url`. With it, the server is
   * expected to refuse requests without a token (401), and the `unauthorized` check runs.
   * @default none: the server must let anonymous requests read `url`
   */
  token?: string;
  /**
   * An events URL the same credentials may not read, for the `forbidden` check (403).
   * @default none: the check is skipped
   */
  forbiddenUrl?: string;
  /**
   * How many events the topic holds at least (3 or more: resume checks need three).
   * @default 3
   */
  minEvents?: number;
  /**
   * How long one request may take before its check fails, in milliseconds.
   * @default 5000
   */
  timeoutMs?: number;
  /**
   * The `fetch` to use, e.g. one trusting a test certificate.
   * @default globalThis.fetch
   */
  fetch?: ConformanceFetch;
}

/** The outcome of one check. */
export interface CheckResult {
  /** The check's short name, e.g. `sse-resume-header`. */
  name: string;
  /** What it verifies. */
  title: string;
  /** `pass`, `fail`, or `skip` (it needs an option that was not given). */
  status: 'pass' | 'fail' | 'skip';
  /** Why it failed or was skipped. */
  reason?: string;
}

/** Default {@link ConformanceOptions.minEvents}. */
export const DEFAULT_MIN_EVENTS = 3;
/** Default {@link ConformanceOptions.timeoutMs}. */
export const DEFAULT_TIMEOUT_MS = 5000;

const SCOPE = 'runConformance';

/**
 * Checks, read-only, that the server at `options.url` speaks the RepoPulse wire protocol: SSE
 * headers, first bytes and framing; resume by `Last-Event-ID` and `?last_event_id=`; resets; the
 * long-poll; HEAD and 405; and, with `token` / `forbiddenUrl`, 401 and 403. Resolves with one
 * result per check (it never throws for a non-conforming server); throws `OptionsError` for bad
 * options.
 *
 * @example
 * ```ts
 * const results = await runConformance({ url: 'http://localhost:3000/api/repositories/1/events' });
 * const failed = results.filter((r) => r.status === 'fail');
 * ```
 */
export async function runConformance(options: ConformanceOptions): Promise<CheckResult[]> {
  checkOptions(SCOPE, options, {
    required: ['url'],
    optional: ['token', 'forbiddenUrl', 'minEvents', 'timeoutMs', 'fetch'],
  });
  const isUrl = (value: unknown) =>
    typeof value === 'string' && URL.canParse(value) && /^https?:$/.test(new URL(value).protocol);
  requireOption(SCOPE, 'url', isUrl(options.url), 'an http(s) URL', options.url);
  requireOption(
    SCOPE,
    'forbiddenUrl',
    options.forbiddenUrl === undefined || isUrl(options.forbiddenUrl),
    'an http(s) URL',
    options.forbiddenUrl,
  );
  requireOption(
    SCOPE,
    'token',
    options.token === undefined || (typeof options.token === 'string' && options.token !== ''),
    'a non-empty string',
    options.token,
  );
  const minEvents = options.minEvents ?? DEFAULT_MIN_EVENTS;
  requireOption(
    SCOPE,
    'minEvents',
    Number.isInteger(minEvents) && minEvents >= 3,
    'an integer of at least 3',
    minEvents,
  );
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  requireOption(
    SCOPE,
    'timeoutMs',
    Number.isFinite(timeoutMs) && timeoutMs > 0,
    'a positive number',
    timeoutMs,
  );
  requireOption(
    SCOPE,
    'fetch',
    options.fetch === undefined || typeof options.fetch === 'function',
    'a function',
    options.fetch,
  );
  const ctx = createContext({
    url: options.url,
    token: options.token,
    forbiddenUrl: options.forbiddenUrl,
    minEvents,
    timeoutMs,
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
  });
  const results: CheckResult[] = [];
  for (const check of CHECKS) results.push(await runCheck(check, ctx));
  return results;
}

async function runCheck(check: Check, ctx: CheckContext): Promise<CheckResult> {
  const { name, title } = check;
  if (check.needs === 'token' && !ctx.hasToken)
    return { name, title, status: 'skip', reason: 'needs --token' };
  if (check.needs === 'forbiddenUrl' && !ctx.forbiddenUrl) {
    return { name, title, status: 'skip', reason: 'needs --forbidden-url' };
  }
  try {
    await check.run(ctx);
    return { name, title, status: 'pass' };
  } catch (error) {
    const reason =
      error instanceof CheckFailure
        ? error.message
        : `${error instanceof Error ? error.message : String(error)}${error instanceof Error && error.cause ? ` (${String((error.cause as Error).message ?? error.cause)})` : ''}`;
    return { name, title, status: 'fail', reason };
  }
}
