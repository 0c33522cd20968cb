import { type BusOptions, type EventBus, OptionsError } from '@repopulse/events-core';
import { defineBus, requireOption, resolveBusOptions } from '@repopulse/events-core/bus-kit';
import { Redis } from 'ioredis';
import { type RedisTransportSettings, redisTransport } from './redis-transport';

/** Options of {@link createRedisBus}. Give exactly one of `url` and `client`. */
export interface RedisBusOptions extends BusOptions {
  /**
   * Redis to connect to. The bus opens two connections (commands with auto-pipelining, and one
   * Pub/Sub subscriber) and closes both in `close()`.
   * @example 'redis://127.0.0.1:6379/0'
   */
  url?: string;
  /**
   * An existing ioredis (5 or 6) client to publish and read with; the bus duplicates it for its one
   * Pub/Sub connection and never closes the client itself. Publishes of one tick share one script
   * call whatever its options; `enableAutoPipelining: true` also lets concurrent reads share round
   * trips.
   */
  client?: Redis;
  /**
   * Prefix of every key and channel; a topic `repo:42` lives at `<keyPrefix>{repo:42}`.
   * @default 'repopulse:'
   */
  keyPrefix?: string;
  /**
   * Publishes allowed to wait while Redis is unreachable; beyond it `publish` rejects at once
   * with `BusUnavailableError`. Publishes in flight to a reachable Redis are not counted.
   * @default 1000
   */
  maxPendingPublishes?: number;
  /**
   * Longest time a publish (and a subscribe, `head` or catch-up read) waits for Redis before it
   * rejects with `BusUnavailableError`. A publish that waited without being sent was not stored.
   * @default 5000
   */
  publishTimeoutMs?: number;
}

/** Default {@link RedisBusOptions.keyPrefix}. */
export const DEFAULT_KEY_PREFIX = 'repopulse:';
/** Default {@link RedisBusOptions.maxPendingPublishes}. */
export const DEFAULT_MAX_PENDING_PUBLISHES = 1000;
/** Default {@link RedisBusOptions.publishTimeoutMs}. */
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;

const SCOPE = 'createRedisBus';
const OWN_OPTION_KEYS = ['url', 'client', 'keyPrefix', 'maxPendingPublishes', 'publishTimeoutMs'];

/**
 * A multi-process {@link EventBus} on Redis: each topic is a Redis Stream (history, positions)
 * and a Pub/Sub channel (live delivery). Every process on the same Redis shares topics: a
 * subscriber on one resumes from positions delivered by another.
 *
 * Publishing runs one Lua script (XADD with `MAXLEN ~`, optional age trim, PUBLISH) so an event
 * is stored and announced atomically. Each bus holds one Pub/Sub connection with
 * reference-counted channels. Replay pages through the stream and merges with live messages by
 * position; after a lost connection every active subscription catches up from its last
 * delivered position before live delivery continues, or gets a reset when Redis lost that
 * history. Needs Redis 7.0 or newer and ioredis 5.4+ or 6.
 *
 * @example
 * ```ts
 * const bus = createRedisBus({ url: process.env.REDIS_URL, historyLimit: 5000 });
 * await bus.subscribe('repo:42', (d) => console.log(d.reset ? 'reset' : d.event.type), { after });
 * await bus.publish('repo:42', createEvent('log.append', { level: 'info', message: 'hi' }));
 * ```
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  // Plain-JavaScript callers may pass nothing; that is the "neither url nor client" error below.
  const given: RedisBusOptions = options ?? {};
  const resolved = resolveBusOptions(SCOPE, given, { optional: OWN_OPTION_KEYS });
  const keyPrefix = given.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const maxPendingPublishes = given.maxPendingPublishes ?? DEFAULT_MAX_PENDING_PUBLISHES;
  const timeoutMs = given.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  checkOwnOptions(given, maxPendingPublishes, timeoutMs, keyPrefix);

  const ownsClient = given.client === undefined;
  const client =
    given.client ??
    new Redis(given.url as string, { enableAutoPipelining: true, maxRetriesPerRequest: null });
  const subscriber = client.duplicate({
    enableAutoPipelining: false,
    autoResubscribe: false,
    maxRetriesPerRequest: null,
    lazyConnect: false,
  });
  const settings: RedisTransportSettings = {
    client,
    subscriber,
    ownsClient,
    keyPrefix,
    historyLimit: resolved.historyLimit,
    historyTtlMs: resolved.historyTtlMs,
    maxPendingPublishes,
    timeoutMs,
  };
  return defineBus(resolved, (sink) => redisTransport(settings, sink));
}

/** The bus {@link createRedisBus} returns: an {@link EventBus} shared by every process on the same Redis. */
export type RedisBus = EventBus;

function checkOwnOptions(
  options: RedisBusOptions,
  maxPendingPublishes: number,
  timeoutMs: number,
  keyPrefix: string,
): void {
  if ((options.url === undefined) === (options.client === undefined)) {
    throw new OptionsError(
      options.url === undefined ? 'missing_option' : 'invalid_option',
      `${SCOPE} needs exactly one of \`url\` and \`client\``,
      'url',
    );
  }
  requireOption(
    SCOPE,
    'maxPendingPublishes',
    Number.isInteger(maxPendingPublishes) && maxPendingPublishes >= 0,
    'a non-negative integer',
    maxPendingPublishes,
  );
  requireOption(
    SCOPE,
    'publishTimeoutMs',
    timeoutMs > 0 && Number.isFinite(timeoutMs),
    'a positive number of milliseconds',
    timeoutMs,
  );
  requireOption(SCOPE, 'keyPrefix', typeof keyPrefix === 'string', 'a string', keyPrefix);
}
