import { type EventBus, OptionsError } from '@repopulse/events-core';
import { checkOptions, createErrorLog, errorLogKey, requireOption } from '@repopulse/events-core/bus-kit';
import type { StreamTokenSecret, VerifiedStreamToken } from './stream-token';

/** What `authorize` is told about the request. */
export interface AuthorizeContext {
  /** The topic the request asks for (from `topic(req)`). */
  topic: string;
  /**
   * The verified stream token, when `tokenSecret` is set and the request carried one. Its
   * `topics` claim was already checked against `topic`.
   */
  token: VerifiedStreamToken | undefined;
  /** `sse` or `long-poll`. */
  transport: 'sse' | 'long-poll';
}

/**
 * What `authorize` returns: `true`/`undefined` to allow, `false` to refuse with 403, or an object
 * to allow with a deadline (e.g. the end of a cookie session) after which the stream is closed.
 * To answer 401/404 (or any other status), throw a `StreamHttpError`.
 */
export type AuthorizeResult =
  | boolean
  | undefined
  | {
      /** Ms since epoch after which the stream is closed (e.g. the session's end). */
      expiresAt?: number;
    };

/**
 * Options of every adapter (`createNodeHandler`, `createFetchHandler`, `createFastifyHandler`,
 * sse-express's `createEventStreamHandler`). `Req` is the request the adapter's framework hands
 * to `topic`, `authorize` and `connectionKey` (Node's `IncomingMessage`, the Fetch `Request`,
 * Fastify's `request`, Express's `req`).
 */
export interface EventStreamOptions<Req = unknown> {
  /**
   * Where events come from (`createMemoryBus()`, `createRedisBus()`, …). Not closed by the handler.
   */
  bus: EventBus;
  /**
   * The topic of a request: a fixed name or a function of the request. It may throw a
   * `StreamHttpError` (e.g. 404). A topic with CR/LF/NUL or over 256 characters is refused with 400.
   * @example (req) => `repo:${req.params.id}`
   */
  topic: string | ((req: Req) => string | Promise<string>);
  /**
   * Decides whether `req` may read `context.topic`; runs after the token check. Return `false`
   * for 403, throw `StreamHttpError` for 401/404/…; an unexpected throw answers 500.
   * @default allows every request (that passed the token check, if any)
   * @example
   * async (req, { topic, token }) => {
   *   const repo = await db.repo(req.params.id);
   *   if (!repo) throw new StreamHttpError(404, 'not_found', 'unknown repository');
   *   return repo.ownerId === token?.sub;
   * }
   */
  authorize?: (req: Req, context: AuthorizeContext) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * A comment is written to a stream that was idle for this long (one shared timer per handler).
   * Keeps proxies from closing idle streams and lets clients detect dead ones.
   * @default 15000
   */
  heartbeatMs?: number;
  /**
   * Sent as `retry:` in the first bytes: how long EventSource waits before reconnecting.
   * @default 3000
   */
  retryMs?: number;
  /**
   * Most unsent bytes (queued while the socket does not drain, plus what Node buffered) a stream
   * holds after any write. Replays and catch-ups are sent in slices that fit, paced by the socket's
   * `drain`; live frames that would pass it close the stream (counted in
   * `stats().closedForBackpressure`) and its client resumes from its last event id. A single frame
   * larger than the cap still goes out when nothing else is unsent.
   * @default 1048576 (1 MiB)
   * @example 256 * 1024
   */
  maxBufferedBytes?: number;
  /**
   * A stream whose socket accepts no byte for this long while bytes wait is closed (counted in
   * `stats().closedForWriteTimeout`): a client that stopped reading holds its buffers at most this
   * long. Checked by the handler's one shared timer.
   * @default 30000
   * @example 10_000
   */
  writeTimeoutMs?: number;
  /**
   * Open streams plus waiting long-polls allowed at once; beyond it requests get 503
   * `too_many_connections` with `Retry-After`. `Infinity` turns the limit off.
   * @default 10000
   * @example 50_000 // a large instance with raised file-descriptor limits
   */
  maxConnections?: number;
  /**
   * Open streams plus waiting long-polls allowed at once per key (see `connectionKey`, by default
   * the verified token's `sub`); beyond it the request gets 429 `too_many_connections_per_key` with
   * `Retry-After`. `Infinity` turns the limit off.
   * @default 100
   * @example 20 // a few tabs per user, each with a couple of streams
   */
  maxConnectionsPerKey?: number;
  /**
   * Which key a request counts against for `maxConnectionsPerKey`, called after `authorize`
   * allowed it: typically the user. `undefined` counts the request against no key.
   * @default the verified stream token's `sub` claim, when there is one
   * @example (req) => req.user?.id
   */
  connectionKey?: (req: Req, context: AuthorizeContext) => string | undefined;
  /**
   * Longest long-poll wait; `?wait=<seconds>` may ask for less. A poll whose token (or
   * `authorize` deadline) expires sooner is answered at the expiry.
   * @default 25000
   */
  longPollWaitMs?: number;
  /**
   * Most events in one long-poll answer; its `position` is where the next poll continues.
   * @default 500
   * @example 100
   */
  longPollMaxEvents?: number;
  /**
   * Most bytes of events in one long-poll answer (a single larger event still goes alone); its
   * `position` is where the next poll continues.
   * @default 524288 (512 KiB)
   * @example 128 * 1024
   */
  longPollMaxBytes?: number;
  /**
   * Enables signed stream tokens (see `signStreamToken`): accepted from
   * `Authorization: Bearer`, `?access_token=` or the `tokenCookie` cookie. Invalid or expired
   * tokens get 401, a token whose `topics` do not cover the topic gets 403, and a stream is
   * closed when its token expires.
   * @example process.env.STREAM_TOKEN_SECRET
   */
  tokenSecret?: StreamTokenSecret;
  /**
   * Name of the cookie a stream token may come in.
   * @default 'repopulse_token'
   */
  tokenCookie?: string;
  /**
   * With `tokenSecret`: whether a request without any token is refused with 401
   * `missing_token`. Set `false` to let such requests through to `authorize` (e.g. session auth).
   * @default true
   */
  requireToken?: boolean;
  /**
   * Most events each topic's hub keeps serialized in its window of recent frames. A connection
   * (or long-poll) resuming from a position inside the window is served from it without a bus
   * read; one resuming from older causes one bus catch-up read, shared by every connection
   * resuming older in the same tick.
   * @default 512
   * @example 2048 // a topic bursting thousands of events while clients reconnect
   */
  windowEvents?: number;
  /**
   * Most frame bytes each topic's hub keeps in its window (see `windowEvents`); whichever bound is
   * reached first evicts the oldest frames.
   * @default 1048576 (1 MiB)
   * @example 4 * 1024 * 1024
   */
  windowBytes?: number;
  /**
   * Ends every SSE stream cleanly before it has been open this long, with a `retry:` line, so a
   * platform that cuts long responses (serverless functions, some proxies) never breaks one: the
   * client reconnects and resumes after its last event, losing nothing. Each stream ends at a time
   * drawn uniformly from 0.9 to 1.0 × `maxDurationMs` after it opened, so streams opened together
   * do not all reconnect at once. A long-poll waits at most as long. Counted in
   * `stats().closedForMaxDuration`.
   * @default undefined (streams stay open)
   * @example 55_000 // a platform that ends responses after 60 s
   */
  maxDurationMs?: number;
  /**
   * Receives unexpected errors (a throwing `topic`/`authorize`, a failing subscribe). A closed
   * bus is reported once per handler, not per request.
   * @default logs with console.error, rate-limited: the first error of each kind with its stack,
   * repeats within a minute counted
   */
  onError?: (error: unknown) => void;
}

/** Options with defaults applied and checked. */
export interface ResolvedOptions<Req> {
  bus: EventBus;
  topic: (req: Req) => string | Promise<string>;
  authorize: EventStreamOptions<Req>['authorize'];
  heartbeatMs: number;
  retryMs: number;
  maxBufferedBytes: number;
  writeTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerKey: number;
  connectionKey: ((req: Req, context: AuthorizeContext) => string | undefined) | undefined;
  longPollWaitMs: number;
  longPollMaxEvents: number;
  longPollMaxBytes: number;
  tokenSecret: StreamTokenSecret | undefined;
  tokenCookie: string;
  requireToken: boolean;
  windowEvents: number;
  windowBytes: number;
  maxDurationMs: number | undefined;
  onError: (error: unknown) => void;
}

/** Default {@link EventStreamOptions.heartbeatMs}. */
export const DEFAULT_HEARTBEAT_MS = 15_000;
/** Default {@link EventStreamOptions.retryMs}. */
export const DEFAULT_RETRY_MS = 3_000;
/** Default {@link EventStreamOptions.maxBufferedBytes}: 1 MiB. */
export const DEFAULT_MAX_BUFFERED_BYTES = 1024 * 1024;
/** Default {@link EventStreamOptions.writeTimeoutMs}. */
export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
/** Default {@link EventStreamOptions.maxConnections}. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
/** Default {@link EventStreamOptions.maxConnectionsPerKey}. */
export const DEFAULT_MAX_CONNECTIONS_PER_KEY = 100;
/** Default {@link EventStreamOptions.longPollMaxEvents}. */
export const DEFAULT_LONG_POLL_MAX_EVENTS = 500;
/** Default {@link EventStreamOptions.longPollMaxBytes}: 512 KiB. */
export const DEFAULT_LONG_POLL_MAX_BYTES = 512 * 1024;
/** Default {@link EventStreamOptions.longPollWaitMs}. */
export const DEFAULT_LONG_POLL_WAIT_MS = 25_000;
/** Default {@link EventStreamOptions.tokenCookie}. */
export const DEFAULT_TOKEN_COOKIE = 'repopulse_token';
/** Default {@link EventStreamOptions.windowEvents}. */
export const DEFAULT_WINDOW_EVENTS = 512;
/** Default {@link EventStreamOptions.windowBytes}: 1 MiB. */
export const DEFAULT_WINDOW_BYTES = 1024 * 1024;

const OPTIONAL_KEYS = [
  'authorize',
  'heartbeatMs',
  'retryMs',
  'maxBufferedBytes',
  'writeTimeoutMs',
  'maxConnections',
  'maxConnectionsPerKey',
  'connectionKey',
  'longPollWaitMs',
  'longPollMaxEvents',
  'longPollMaxBytes',
  'tokenSecret',
  'tokenCookie',
  'requireToken',
  'windowEvents',
  'windowBytes',
  'maxDurationMs',
  'onError',
] as const satisfies readonly (keyof EventStreamOptions)[];

const errorLog = createErrorLog();

/** Who checks the options and logs the errors: the adapter's factory and its package. */
export interface OptionsScope {
  /** Named in `OptionsError` messages, e.g. `createNodeHandler`. */
  readonly factory: string;
  /** Names the default `onError`'s log lines, e.g. `sse-server`. */
  readonly logName: string;
}

/** The default `onError`: rate-limited per error code. */
function errorLogger(logName: string): (error: unknown) => void {
  return (error) => errorLog(errorLogKey(logName, error), `[repopulse] ${logName} error:`, error);
}

function positive(
  SCOPE: string,
  name: string,
  value: number | undefined,
  fallback: number,
  allowInfinity = false,
): number {
  if (value === undefined) return fallback;
  requireOption(
    SCOPE,
    name,
    typeof value === 'number' && value > 0 && (allowInfinity || Number.isFinite(value)),
    allowInfinity ? 'a positive number' : 'a positive, finite number',
    value,
  );
  return value;
}

/**
 * Applies defaults; throws `OptionsError` for unknown, missing or unusable options.
 */
export function resolveOptions<Req>(
  options: EventStreamOptions<Req>,
  scope: OptionsScope,
): ResolvedOptions<Req> {
  const SCOPE = scope.factory;
  checkOptions(SCOPE, options, { required: ['bus', 'topic'], optional: OPTIONAL_KEYS });
  const { bus, topic, authorize } = options;
  if (typeof bus.subscribe !== 'function' || typeof bus.head !== 'function') {
    throw new OptionsError('invalid_option', `${SCOPE}: option "bus" must be an EventBus`, 'bus');
  }
  if (typeof topic !== 'string' && typeof topic !== 'function') {
    throw new OptionsError(
      'invalid_option',
      `${SCOPE}: option "topic" must be a string or (req) => string`,
      'topic',
    );
  }
  const isFunction = (value: unknown) => value === undefined || typeof value === 'function';
  requireOption(SCOPE, 'authorize', isFunction(authorize), 'a function', authorize);
  const retryMs = options.retryMs ?? DEFAULT_RETRY_MS;
  requireOption(
    SCOPE,
    'retryMs',
    Number.isInteger(retryMs) && retryMs >= 0,
    'a non-negative integer',
    retryMs,
  );
  const maxConnections = positive(
    SCOPE,
    'maxConnections',
    options.maxConnections,
    DEFAULT_MAX_CONNECTIONS,
    true,
  );
  const maxConnectionsPerKey = positive(
    SCOPE,
    'maxConnectionsPerKey',
    options.maxConnectionsPerKey,
    DEFAULT_MAX_CONNECTIONS_PER_KEY,
    true,
  );
  requireOption(
    SCOPE,
    'connectionKey',
    isFunction(options.connectionKey),
    'a function',
    options.connectionKey,
  );
  const tokenCookie = options.tokenCookie ?? DEFAULT_TOKEN_COOKIE;
  requireOption(
    SCOPE,
    'tokenCookie',
    typeof tokenCookie === 'string' && /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(tokenCookie),
    'a cookie name',
    tokenCookie,
  );
  return {
    bus,
    topic: typeof topic === 'string' ? () => topic : topic,
    authorize,
    heartbeatMs: positive(SCOPE, 'heartbeatMs', options.heartbeatMs, DEFAULT_HEARTBEAT_MS),
    retryMs,
    maxBufferedBytes: positive(
      SCOPE,
      'maxBufferedBytes',
      options.maxBufferedBytes,
      DEFAULT_MAX_BUFFERED_BYTES,
    ),
    writeTimeoutMs: positive(SCOPE, 'writeTimeoutMs', options.writeTimeoutMs, DEFAULT_WRITE_TIMEOUT_MS),
    maxConnections,
    maxConnectionsPerKey,
    connectionKey: options.connectionKey,
    longPollWaitMs: positive(SCOPE, 'longPollWaitMs', options.longPollWaitMs, DEFAULT_LONG_POLL_WAIT_MS),
    longPollMaxEvents: positive(
      SCOPE,
      'longPollMaxEvents',
      options.longPollMaxEvents,
      DEFAULT_LONG_POLL_MAX_EVENTS,
    ),
    longPollMaxBytes: positive(
      SCOPE,
      'longPollMaxBytes',
      options.longPollMaxBytes,
      DEFAULT_LONG_POLL_MAX_BYTES,
    ),
    tokenSecret: options.tokenSecret,
    tokenCookie,
    requireToken: options.requireToken ?? true,
    windowEvents: positive(SCOPE, 'windowEvents', options.windowEvents, DEFAULT_WINDOW_EVENTS),
    windowBytes: positive(SCOPE, 'windowBytes', options.windowBytes, DEFAULT_WINDOW_BYTES),
    maxDurationMs:
      options.maxDurationMs === undefined
        ? undefined
        : positive(SCOPE, 'maxDurationMs', options.maxDurationMs, 0),
    onError: options.onError ?? errorLogger(scope.logName),
  };
}
