import {
  BusClosedError,
  BusUnavailableError,
  type EventDelivery,
  type StreamPosition,
  type Topic,
} from '@repopulse/events-core';
import {
  type BusTransport,
  type ReadResult,
  type TransportSink,
  withTimeout,
} from '@repopulse/events-core/bus-kit';
import type { Cluster, Redis } from 'ioredis';
import { appendRunner } from './append-runner';
import { readLatin1, readUtf8 } from './buffer-text';
import { ChannelHub } from './channel-hub';
import { keySlot } from './cluster/key-slot';
import { SHARDED_DROP_SCRIPT } from './cluster/sharded-append-script';
import { ShardedHub } from './cluster/sharded-hub';
import { idKeysOf, topicKey } from './keys';
import type { LiveHubEvents } from './live-hub';
import { LocalEnvelopes } from './local-envelopes';
import { LuaScript } from './lua-script';
import { DROP_SCRIPT, DROPPED_MARK, READ_SCRIPT } from './lua-scripts';
import { PublishBatcher } from './publish-batch';
import { PublishQueue } from './publish-queue';
import { ReadyGate } from './ready-gate';
import { runReplicated } from './replicated-publish';
import { decodeEnvelope, parseSnapshot } from './stream-snapshot';

/** What {@link redisTransport} works with: resolved options and the connections. */
export interface RedisTransportSettings {
  /** The command connection (auto-pipelined): one Redis, or a Redis Cluster. */
  client: Redis | Cluster;
  /**
   * The Pub/Sub connection of a single Redis; the transport owns it and closes it. Undefined
   * for a Cluster: live delivery then opens its own sharded Pub/Sub connection per node.
   */
  subscriber: Redis | undefined;
  /** Replicas that must confirm each publish (0: none). */
  replicaAcks: number;
  /** True when the transport made `client` and closes it. */
  ownsClient: boolean;
  keyPrefix: string;
  historyLimit: number;
  historyTtlMs: number | undefined;
  maxPendingPublishes: number;
  timeoutMs: number;
}

const readScript = new LuaScript(READ_SCRIPT);
const NEWLINE = 0x0a;
const SPACE = 0x20;
const OPEN_BRACE = 0x7b;
const dropScript = new LuaScript(DROP_SCRIPT);
const shardedDropScript = new LuaScript(SHARDED_DROP_SCRIPT);

/**
 * The Redis bus's primitives over one Redis: `append` joins the publishes of a tick into append
 * script calls (XADD + trim + one PUBLISH per topic, {@link PublishBatcher}) behind a bounded
 * {@link PublishQueue}; `read` runs the read script (a page after a
 * cursor plus the retained range, one consistent snapshot); `head` is a read of the range only;
 * live notification is one Pub/Sub connection with reference-counted channels ({@link ChannelHub}),
 * whose drop and resubscribe are reported to the bus as `interrupted` / `recovered`; `drop` runs
 * the drop script, whose announcement reaches every process's subscribers as `dropped`.
 */
export function redisTransport(settings: RedisTransportSettings, sink: TransportSink): BusTransport {
  const { client, subscriber, ownsClient, keyPrefix, historyLimit, timeoutMs } = settings;
  const ttlArg = settings.historyTtlMs === undefined ? 0 : Math.ceil(settings.historyTtlMs);
  const gate = new ReadyGate(client);
  let closed = false;

  // Connection errors: reported once per outage and connection, not once per reconnect attempt.
  const watchConnection = (connection: Redis | Cluster, name: string) => {
    let reported = false;
    connection.on('ready', () => {
      reported = false;
    });
    connection.on('error', (error: unknown) => {
      if (reported || closed) return;
      reported = true;
      sink.report(new BusUnavailableError(`Redis ${name} connection failed`, { cause: error }), {
        source: 'connection',
      });
    });
  };
  if (ownsClient) watchConnection(client, 'command');
  if (subscriber) watchConnection(subscriber, 'subscriber');

  const batcher = new PublishBatcher({
    run: appendRunner(client, { replicaAcks: settings.replicaAcks, timeoutMs }),
    // A script call on a Cluster may only touch keys of one slot.
    groupOf: client.isCluster ? (key) => String(keySlot(key)) : undefined,
    maxLength: historyLimit,
    ttlMs: ttlArg,
  });
  const queue = new PublishQueue({
    send: (item) => batcher.add(item),
    isReady: () => gate.ready,
    maxPending: settings.maxPendingPublishes,
    timeoutMs,
  });
  const flushQueue = () => queue.flush();
  client.on('ready', flushQueue);

  const topicOf = (channel: string): Topic => channel.slice(keyPrefix.length + 1, -1);
  const topicsOf = (channels: readonly string[] | undefined) => channels?.map(topicOf);
  const local = new LocalEnvelopes();
  const events: LiveHubEvents = {
    message(channel, payload) {
      const topic = topicOf(channel);
      if (!sink.wants(topic)) return;
      // One message per batch: lines `<position> <envelope JSON>`, in position order. Read from
      // the bytes, so every string taken from it is a copy: a position kept by a subscriber does
      // not keep the whole message alive.
      for (let start = 0; start < payload.length; ) {
        let end = payload.indexOf(NEWLINE, start);
        if (end < 0) end = payload.length;
        const space = payload.indexOf(SPACE, start);
        const position = readLatin1(payload, start, space) as StreamPosition;
        if (payload[space + 1] !== OPEN_BRACE) {
          // Not an envelope: the drop script's `<position> dropped`.
          if (readLatin1(payload, space + 1, end) === DROPPED_MARK) sink.dropped(topic, position);
          start = end + 1;
          continue;
        }
        let delivery: EventDelivery;
        try {
          const event =
            local.take(topic, payload, space + 1, end) ?? decodeEnvelope(readUtf8(payload, space + 1, end));
          delivery = { position, event };
        } catch (error) {
          sink.report(error, { topic, source: 'connection' });
          start = end + 1;
          continue;
        }
        sink.live(topic, delivery);
        start = end + 1;
      }
    },
    down: (channels) => sink.interrupted(topicsOf(channels)),
    resubscribed: (channels) => sink.recovered(topicsOf(channels)),
    error: (error) => sink.report(error, { source: 'connection' }),
  };
  const hub = subscriber ? new ChannelHub(subscriber, events) : new ShardedHub(client as Cluster, events);

  const runRead = async (topic: Topic, cursor: StreamPosition, limit: number) => {
    await gate.wait(timeoutMs);
    const reply = await withTimeout(
      readScript.run(client, [topicKey(keyPrefix, topic)], [cursor, limit, ttlArg]),
      timeoutMs,
      () => new BusUnavailableError(`no reply from Redis within ${timeoutMs} ms`),
    );
    return parseSnapshot(reply);
  };

  const runDrop = async (topic: Topic) => {
    await gate.wait(timeoutMs);
    const key = topicKey(keyPrefix, topic);
    const keys = [key, ...idKeysOf(key)];
    const script = client.isCluster ? shardedDropScript : dropScript;
    // Confirmed by replicas like a publish: a drop lost in a failover would bring the history back.
    const waitMs = Math.max(1, Math.floor(timeoutMs / 2));
    const run = () =>
      settings.replicaAcks > 0
        ? runReplicated(client, script, keys, [], settings.replicaAcks, waitMs)
        : script.run(client, keys, []);
    await withTimeout(
      run(),
      timeoutMs,
      () =>
        new BusUnavailableError(
          `no reply from Redis within ${timeoutMs} ms; the topic may or may not be dropped`,
        ),
    );
  };

  // Publishes come in runs on one topic: its key is made once per run, not once per publish.
  let lastTopic: Topic | undefined;
  let lastKey = '';
  const transport = {
    system: 'redis',
    append(topic, event, json) {
      if (topic !== lastTopic) {
        lastKey = topicKey(keyPrefix, topic);
        lastTopic = topic;
      }
      const key = lastKey;
      gate.poke();
      // Told when the publish announces nothing, so the envelope is not expected any longer.
      const expected = sink.wants(topic) ? local.add(topic, json, event) : undefined;
      return queue.run(key, event.id, json, expected);
    },

    async read(topic, cursor, limit): Promise<ReadResult> {
      const { entries, ...range } = await runRead(topic, cursor, limit);
      const deliveries: EventDelivery[] = [];
      for (const entry of entries) {
        try {
          deliveries.push({ position: entry.position, event: decodeEnvelope(entry.json) });
        } catch (error) {
          sink.report(error, { topic, source: 'replay' });
        }
      }
      return { ...range, entries: deliveries };
    },

    async head(topic) {
      return (await runRead(topic, '0-0', 0)).head;
    },

    async drop(topic) {
      try {
        await runDrop(topic);
      } catch (error) {
        if (error instanceof BusUnavailableError) throw error;
        throw new BusUnavailableError(`could not drop ${topic}: ${describeError(error)}`, { cause: error });
      }
    },

    listen(topic) {
      return withTimeout(
        hub.acquire(topicKey(keyPrefix, topic)),
        timeoutMs,
        () => new BusUnavailableError(`could not subscribe to ${topic} within ${timeoutMs} ms`),
      ).then(() => {
        if (closed) throw new BusClosedError();
      });
    },

    async unlisten(topic) {
      if (closed) return;
      // Bounded: while Redis is down the UNSUBSCRIBE waits in the channel's queue and runs on
      // reconnect; the subscription itself is already gone.
      await withTimeout(hub.release(topicKey(keyPrefix, topic)), timeoutMs, () => new Error('pending')).catch(
        () => {},
      );
    },

    isLive: (topic) => hub.isUp(topicKey(keyPrefix, topic)),

    whenReachable: () => gate.wait(timeoutMs),

    async close() {
      if (closed) return;
      closed = true;
      queue.close();
      local.clear();
      gate.close();
      client.off('ready', flushQueue);
      hub.close();
      if (ownsClient) {
        if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
        else client.disconnect();
      }
    },
  } satisfies BusTransport;
  return transport;
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
