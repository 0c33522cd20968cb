import {
  assertTopic,
  BusClosedError,
  type BusDelivery,
  BusError,
  type BusErrorContext,
  type BusErrorHandler,
  type BusOptions,
  BusUnavailableError,
  DEFAULT_HISTORY_LIMIT,
  type DeliveryHandler,
  type EventBus,
  type EventDelivery,
  logBusError,
  parseEnvelope,
  type StreamPosition,
  type Subscription,
  type Topic,
} from '@repopulse/events-core';
import { Cluster, type ClusterNode, Redis } from 'ioredis';
import { ChannelHub } from './channel-hub';
import { publishOnCluster } from './cluster/cluster-publish';
import { ShardedHub } from './cluster/sharded-hub';
import { SHARDED_PUBLISH_SCRIPT } from './cluster/sharded-publish-script';
import { topicKey } from './keys';
import { LuaScript } from './lua-script';
import { PUBLISH_SCRIPT, READ_SCRIPT } from './lua-scripts';
import { PublishQueue } from './publish-queue';
import { ReadyGate, withTimeout } from './ready-gate';
import { publishReplicated } from './replicated-publish';
import { decodeEnvelope, parseSnapshot, type StreamSnapshot } from './stream-snapshot';
import { type SubscriptionHost, TopicSubscription } from './topic-subscription';

/** Options of {@link createRedisBus}. Give exactly one of `url` and `client`. */
export interface RedisBusOptions extends BusOptions {
  /**
   * Redis to connect to. The bus opens two connections (commands with auto-pipelining, and one
   * Pub/Sub subscriber) and closes both in `close()`.
   * @example 'redis://127.0.0.1:6379/0'
   */
  url?: string;
  /**
   * An existing ioredis client to publish and read with; the bus duplicates it for its one
   * Pub/Sub connection and never closes the client itself. Create it with
   * `enableAutoPipelining: true` so concurrent publishes share round trips.
   */
  client?: Redis | Cluster;
  /**
   * Startup nodes of a Redis Cluster (any subset; the rest is discovered). The bus creates an
   * ioredis `Cluster` with auto-pipelining and closes it in `close()`. Live delivery then uses
   * sharded Pub/Sub (`SSUBSCRIBE`/`SPUBLISH`, one connection per node with subscribed topics).
   * @example [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 7000 }]
   */
  cluster?: ClusterNode[];
  /**
   * Replicas that must hold an event before `publish` resolves (`WAIT`, same node, right after
   * the publish script). With 1, a primary that dies right after answering cannot take an
   * acknowledged event with it when its replica takes over; a publish not confirmed in time
   * rejects with `BusUnavailableError` (it may or may not survive). Set 0 for a cluster without
   * replicas.
   * @default 1 with a Redis Cluster, 0 otherwise
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

const publishScript = new LuaScript(PUBLISH_SCRIPT);
const shardedPublishScript = new LuaScript(SHARDED_PUBLISH_SCRIPT);
const readScript = new LuaScript(READ_SCRIPT);

interface TopicEntry {
  topic: Topic;
  subscriptions: Set<TopicSubscription>;
}

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
 * history. Needs Redis 7.0 or newer.
 *
 * @example
 * ```ts
 * const bus = createRedisBus({ url: process.env.REDIS_URL, historyLimit: 5000 });
 * await bus.subscribe('repo:42', (d) => console.log(d.reset ? 'reset' : d.event.type), { after });
 * await bus.publish('repo:42', createEvent('log.append', { level: 'info', message: 'hi' }));
 * ```
 */
export function createRedisBus(options: RedisBusOptions): RedisBus {
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const historyTtlMs = options.historyTtlMs;
  const keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX;
  const maxPendingPublishes = options.maxPendingPublishes ?? DEFAULT_MAX_PENDING_PUBLISHES;
  const timeoutMs = options.publishTimeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS;
  const { maxEventBytes } = options;
  checkOptions(options, historyLimit, maxPendingPublishes, timeoutMs, keyPrefix);
  const onError: BusErrorHandler = options.onError ?? logBusError;
  const ttlArg = historyTtlMs === undefined ? 0 : Math.ceil(historyTtlMs);

  const ownsClient = options.client === undefined;
  const client: Redis | Cluster =
    options.client ??
    (options.cluster
      ? new Cluster(options.cluster, {
          enableAutoPipelining: true,
          redisOptions: { maxRetriesPerRequest: null },
        })
      : new Redis(options.url as string, { enableAutoPipelining: true, maxRetriesPerRequest: null }));
  const clustered = client.isCluster;
  const replicaAcks = options.replicaAcks ?? (clustered ? 1 : 0);
  const script = clustered ? shardedPublishScript : publishScript;

  const topics = new Map<string, TopicEntry>();
  const releases = new Set<() => Promise<void>>();
  const gate = new ReadyGate(client);
  let closed = false;

  const report = (error: unknown, context: BusErrorContext) => {
    try {
      onError(error, context);
    } catch {
      // an onError that throws must not break delivery
    }
  };

  // Connection errors: reported once per outage and connection, not once per reconnect attempt.
  const watchConnection = (connection: Redis, name: string) => {
    let reported = false;
    connection.on('ready', () => {
      reported = false;
    });
    connection.on('error', (error: unknown) => {
      if (reported || closed) return;
      reported = true;
      report(new BusUnavailableError(`Redis ${name} connection failed`, { cause: error }), {
        source: 'connection',
      });
    });
  };
  if (ownsClient) watchConnection(client as Redis, 'command');

  const queue = new PublishQueue({ isReady: () => gate.ready, maxPending: maxPendingPublishes, timeoutMs });
  const flushQueue = () => queue.flush();
  client.on('ready', flushQueue);

  const onMessage = (channel: string, payload: string) => {
    const entry = topics.get(channel);
    if (!entry || entry.subscriptions.size === 0) return;
    const space = payload.indexOf(' ');
    let delivery: EventDelivery;
    try {
      delivery = {
        position: payload.slice(0, space) as StreamPosition,
        event: decodeEnvelope(payload.slice(space + 1)),
      };
    } catch (error) {
      report(error, { topic: entry.topic, source: 'connection' });
      return;
    }
    for (const subscription of entry.subscriptions) subscription.onLive(delivery);
  };
  const hub: {
    acquire(c: string): Promise<void>;
    release(c: string): Promise<void>;
    isUp(c: string): boolean;
    close(): void;
  } = clustered
    ? new ShardedHub(client as Cluster, {
        message: onMessage,
        down(channel) {
          for (const s of topics.get(channel)?.subscriptions ?? []) s.pause();
        },
        resubscribed(channel) {
          for (const s of topics.get(channel)?.subscriptions ?? []) s.catchUp();
        },
        error(error) {
          report(error, { source: 'connection' });
        },
      })
    : (() => {
        const subscriber = (client as Redis).duplicate({
          enableAutoPipelining: false,
          autoResubscribe: false,
          maxRetriesPerRequest: null,
          lazyConnect: false,
        });
        watchConnection(subscriber, 'subscriber');
        const single = new ChannelHub(subscriber, {
          message: onMessage,
          down() {
            for (const entry of topics.values()) for (const s of entry.subscriptions) s.pause();
          },
          resubscribed() {
            for (const entry of topics.values()) for (const s of entry.subscriptions) s.catchUp();
          },
          error(error) {
            report(error, { source: 'connection' });
          },
        });
        return Object.assign(single, { isUp: () => single.up });
      })();

  const read = async (key: string, cursor: StreamPosition, count: number): Promise<StreamSnapshot> => {
    await gate.wait(timeoutMs);
    const reply = await withTimeout(
      readScript.run(client, key, [cursor, count, ttlArg]),
      timeoutMs,
      () => new BusUnavailableError(`no reply from Redis within ${timeoutMs} ms`),
    );
    return parseSnapshot(reply);
  };

  const retryDelay = async (attempt: number) => {
    if (closed) return;
    await gate.wait(timeoutMs).catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, Math.min(25 * 2 ** attempt, 2000)));
  };

  const call = (handler: DeliveryHandler, delivery: BusDelivery, topic: Topic) => {
    try {
      const result = handler(delivery);
      if (result && typeof result.then === 'function') {
        result.then(undefined, (error: unknown) => report(error, { topic, source: 'handler' }));
      }
    } catch (error) {
      report(error, { topic, source: 'handler' });
    }
  };

  const bus = {
    async publish(topic, event) {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      const stored = parseEnvelope(event, { maxBytes: maxEventBytes });
      const json = JSON.stringify(stored);
      const key = topicKey(keyPrefix, topic);
      gate.poke();
      const position = await queue.run(async () => {
        const args = [key, historyLimit, ttlArg, stored.id, json];
        const waitMs = Math.max(1, Math.floor(timeoutMs / 2));
        const id = clustered
          ? await publishOnCluster(client as Cluster, script, key, args, {
              replicaAcks,
              waitMs,
              deadline: Date.now() + timeoutMs,
            })
          : replicaAcks > 0
            ? await publishReplicated(client, script, key, args, replicaAcks, waitMs)
            : await script.run(client, key, args);
        return String(id) as StreamPosition;
      });
      return { position, event: stored as unknown as typeof event };
    },

    async subscribe(topic, handler, subscribeOptions = {}) {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      const { after, signal } = subscribeOptions;
      if (signal?.aborted) return { unsubscribe: async () => {} };
      const channel = topicKey(keyPrefix, topic);
      const host: SubscriptionHost = {
        read: (cursor, count) => read(channel, cursor, count),
        deliver: (delivery) => call(handler, delivery, topic),
        replayFailed: (error) => report(error, { topic, source: 'replay' }),
        connected: () => hub.isUp(channel),
        retryDelay,
      };
      const subscription = new TopicSubscription(host, after);
      let entry = topics.get(channel);
      if (!entry) {
        entry = { topic, subscriptions: new Set() };
        topics.set(channel, entry);
      }
      entry.subscriptions.add(subscription);

      let released: Promise<void> | undefined;
      const onAbort = () => void release();
      const release = (): Promise<void> => {
        released ??= (async () => {
          subscription.active = false;
          releases.delete(release);
          signal?.removeEventListener('abort', onAbort);
          const current = topics.get(channel);
          if (current?.subscriptions.delete(subscription) && current.subscriptions.size === 0) {
            topics.delete(channel);
          }
          if (closed) return;
          // Bounded: while Redis is down the UNSUBSCRIBE waits in the channel's queue and runs on
          // reconnect; the subscription itself is already gone.
          await withTimeout(hub.release(channel), timeoutMs, () => new Error('unsubscribe pending')).catch(
            () => {},
          );
        })();
        return released;
      };
      releases.add(release);
      signal?.addEventListener('abort', onAbort, { once: true });

      try {
        await withTimeout(
          hub.acquire(channel),
          timeoutMs,
          () => new BusUnavailableError(`could not subscribe to ${topic} within ${timeoutMs} ms`),
        );
        if (closed) throw new BusClosedError();
        if (subscription.active) await subscription.start();
      } catch (error) {
        void release();
        if (error instanceof BusError) throw error;
        throw new BusUnavailableError(`could not subscribe to ${topic}: ${messageOf(error)}`, {
          cause: error,
        });
      }
      const result: Subscription = { unsubscribe: release };
      return result;
    },

    async head(topic): Promise<StreamPosition> {
      if (closed) throw new BusClosedError();
      assertTopic(topic);
      return (await read(topicKey(keyPrefix, topic), '0-0', 0)).last;
    },

    stats() {
      let subscriptions = 0;
      for (const entry of topics.values()) subscriptions += entry.subscriptions.size;
      return { topics: topics.size, subscriptions };
    },

    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...releases].map((release) => release()));
      topics.clear();
      queue.close();
      gate.close();
      client.off('ready', flushQueue);
      hub.close();
      if (ownsClient) {
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }
    },
  } satisfies EventBus;
  return bus;
}

/** The bus {@link createRedisBus} returns: an {@link EventBus} shared by every process on the same Redis. */
export type RedisBus = EventBus;

function checkOptions(
  options: RedisBusOptions,
  historyLimit: number,
  maxPendingPublishes: number,
  timeoutMs: number,
  keyPrefix: string,
): void {
  const given = [options.url, options.client, options.cluster].filter((v) => v !== undefined).length;
  if (given !== 1) {
    throw new TypeError('[repopulse] createRedisBus needs exactly one of `url`, `client` and `cluster`');
  }
  if (options.cluster !== undefined && (!Array.isArray(options.cluster) || options.cluster.length === 0)) {
    throw new TypeError('[repopulse] cluster must be a non-empty list of nodes');
  }
  if (
    options.replicaAcks !== undefined &&
    !(Number.isInteger(options.replicaAcks) && options.replicaAcks >= 0)
  ) {
    throw new RangeError('[repopulse] replicaAcks must be a non-negative integer');
  }
  if (!Number.isInteger(historyLimit) || historyLimit < 1) {
    throw new RangeError('[repopulse] historyLimit must be a positive integer');
  }
  if (options.historyTtlMs !== undefined && !(options.historyTtlMs > 0)) {
    throw new RangeError('[repopulse] historyTtlMs must be a positive number of milliseconds');
  }
  if (!Number.isInteger(maxPendingPublishes) || maxPendingPublishes < 0) {
    throw new RangeError('[repopulse] maxPendingPublishes must be a non-negative integer');
  }
  if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) {
    throw new RangeError('[repopulse] publishTimeoutMs must be a positive number of milliseconds');
  }
  if (typeof keyPrefix !== 'string') throw new TypeError('[repopulse] keyPrefix must be a string');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
