import { type BusOptions, type EventBus, OptionsError } from '@repopulse/events-core';
import { defineBus, requireOption, resolveBusOptions } from '@repopulse/events-core/bus-kit';
import { Cluster, type ClusterNode, Redis } from 'ioredis';
import { type RedisTransportSettings, redisTransport } from './redis-transport';

/** Options of {@link createRedisBus}. Give exactly one of `url`, `client` and `cluster`. */
export interface RedisBusOptions extends BusOptions {
  /**
   * Redis to connect to. The bus opens two connections (commands with auto-pipelining, and one
   * Pub/Sub subscriber) and closes both in `close()`.
   * @example 'redis://127.0.0.1:6379/0'
   */
  url?: string;
  /**
   * An existing ioredis (5 or 6) client to publish and read with; the bus never closes it. A
   * `Redis` client is duplicated for the bus's one Pub/Sub connection. A `Cluster` client switches
   * the bus to cluster mode (see `cluster`); the bus opens its sharded Pub/Sub connections with
   * the Cluster's `redisOptions`. Publishes of one tick share one script call (per slot on a
   * Cluster) whatever its options; `enableAutoPipelining: true` also lets concurrent reads share
   * round trips.
   * @example new Cluster([{ host: '10.0.0.1', port: 7000 }], { enableAutoPipelining: true })
   */
  client?: Redis | Cluster;
  /**
   * Startup nodes of a Redis Cluster (a few are enough; the rest is discovered). The bus
   * creates an ioredis `Cluster` with auto-pipelining and closes it in `close()`.
   *
   * In cluster mode every topic lives on the shard that owns its slot (the key is hash-tagged,
   * `repopulse:{repo:42}`), the publish script runs there and announces with `SPUBLISH`, and
   * live delivery uses sharded Pub/Sub: one `SSUBSCRIBE` connection per node that owns
   * subscribed topics, following slots through failovers and migrations. Needs Redis 7.0+.
   * @example [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }]
   */
  cluster?: ClusterNode[];
  /**
   * Replicas that must hold an event before `publish` resolves: Redis `WAIT`, sent right after
   * the publish script on the same node. With 1, a primary that dies right after answering
   * cannot take an acknowledged event with it when its replica takes over. A publish not
   * confirmed within half of `publishTimeoutMs` rejects with `BusUnavailableError` (the event
   * is on the primary and may or may not survive a failover). A shard whose primary has fewer
   * live replicas than this cannot acknowledge publishes, so run 2 replicas per primary to
   * keep publishing through a failover, or set 0 for a cluster without replicas.
   * @default 1 in cluster mode, 0 on a single Redis
   * @example 0
   */
  replicaAcks?: number;
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
const OWN_OPTION_KEYS = [
  'url',
  'client',
  'cluster',
  'keyPrefix',
  'maxPendingPublishes',
  'publishTimeoutMs',
  'replicaAcks',
];

/**
 * A multi-process {@link EventBus} on Redis: each topic is a Redis Stream (history, positions)
 * and a Pub/Sub channel (live delivery). Every process on the same Redis shares topics: a
 * subscriber on one resumes from positions delivered by another.
 *
 * Publishing runs one Lua script (XADD with `MAXLEN ~`, optional age trim, PUBLISH) so an event
 * is stored and announced atomically. Each bus holds one Pub/Sub connection with
 * reference-counted channels; on a Redis Cluster (`cluster`, or a `Cluster` as `client`) the
 * script runs on the topic's shard and announces with `SPUBLISH`, and the bus holds one sharded
 * Pub/Sub connection per node with subscribed topics. Replay pages through the stream and merges with live messages by
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
  const client: Redis | Cluster =
    given.client ??
    (given.cluster
      ? new Cluster(given.cluster, {
          enableAutoPipelining: true,
          redisOptions: { maxRetriesPerRequest: null },
        })
      : new Redis(given.url as string, { enableAutoPipelining: true, maxRetriesPerRequest: null }));
  const clustered = client.isCluster;
  const subscriber = clustered
    ? undefined
    : (client as Redis).duplicate({
        enableAutoPipelining: false,
        autoResubscribe: false,
        maxRetriesPerRequest: null,
        lazyConnect: false,
      });
  const settings: RedisTransportSettings = {
    client,
    subscriber,
    replicaAcks: given.replicaAcks ?? (clustered ? 1 : 0),
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
  const targets = [options.url, options.client, options.cluster].filter((t) => t !== undefined).length;
  if (targets !== 1) {
    throw new OptionsError(
      targets === 0 ? 'missing_option' : 'invalid_option',
      `${SCOPE} needs exactly one of \`url\`, \`client\` and \`cluster\``,
      'url',
    );
  }
  if (options.cluster !== undefined) {
    requireOption(
      SCOPE,
      'cluster',
      Array.isArray(options.cluster) && options.cluster.length > 0,
      'a non-empty list of cluster nodes',
      options.cluster,
    );
  }
  if (options.replicaAcks !== undefined) {
    requireOption(
      SCOPE,
      'replicaAcks',
      Number.isInteger(options.replicaAcks) && options.replicaAcks >= 0,
      'a non-negative integer',
      options.replicaAcks,
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
