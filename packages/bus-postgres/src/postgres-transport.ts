import {
  type AnyEnvelope,
  BusClosedError,
  BusUnavailableError,
  type StreamPosition,
  type Topic,
} from '@repopulse/events-core';
import {
  type AppendResult,
  type BusTransport,
  computeBackoff,
  decideReplay,
  type ReadResult,
  type TransportSink,
} from '@repopulse/events-core/bus-kit';
import { comparePositions, isPosition, ZERO_POSITION } from '@repopulse/events-core/wire';
import type pg from 'pg';
import { boundedRetry, lockTimeoutFor } from './bounded-retry';
import { callerTransaction } from './caller-transaction';
import { channelOf } from './channel-name';
import { describeError } from './connection-errors';
import { ListenConnection, RECONNECT_BACKOFF } from './listen-connection';
import { ensureSchema } from './schema-setup';
import { quoteIdentifier } from './schema-sql';
import { type QueuedAppend, TopicBatches } from './topic-batches';
import { type PageRow, parseTopicPage, type TopicPage, topicReadParams, topicReadSql } from './topic-read';

/** What {@link postgresTransport} works with: resolved options and the connections. */
export interface PostgresTransportSettings {
  /** Publishes, reads and the schema setup go through it. */
  pool: pg.Pool;
  /** True when the bus made `pool` and ends it in `close()`. */
  ownsPool: boolean;
  /** Makes the listening connection (a session of its own). */
  makeListenClient: () => pg.Client;
  schema: string;
  createTables: boolean;
  historyLimit: number;
  historyTtlMs: number | undefined;
  timeoutMs: number;
}

/** Most publishes of one topic sent in one append statement. */
const MAX_BATCH = 256;

/** Events read per wake-up query of a topic. */
const LIVE_PAGE_SIZE = 256;

interface ListenedTopic {
  refs: number;
  channel: string;
  /** The last position handed to `sink.live` (or the head when listening began). */
  cursor: StreamPosition | undefined;
  reading: boolean;
  again: boolean;
}

interface AppendRow {
  position_ms: string;
  position_seq: string;
  stored_envelope: string | null;
  /** The topic's head before the batch. */
  previous_ms: string;
  previous_seq: string;
  /** The server process that notifies at commit. */
  notifier: number;
}

/**
 * The Postgres bus's primitives. `append` and `drop` call the schema's functions (one statement,
 * on the caller's connection inside its transaction, or through the pool with bounded retries);
 * `read` is one statement (the page and the retained range from one snapshot). Live delivery: one
 * {@link ListenConnection} with reference-counted channels; a notification only wakes the topic
 * (unless this transport has delivered up to the position it announces), which is then read from
 * the last position this transport delivered, in order, so nothing depends
 * on notifications arriving (after a reconnect every topic is read again). A read that finds the
 * transport's own position gone (trimmed before it was read, or the tables truncated) reports the
 * topic as interrupted and recovered: every subscription catches up, or is reset.
 */
export function postgresTransport(settings: PostgresTransportSettings, sink: TransportSink): BusTransport {
  const { pool, schema, historyLimit, historyTtlMs, timeoutMs } = settings;
  const s = quoteIdentifier(schema);
  const appendSql = `SELECT * FROM ${s}.append_events($1, $2, $3, $4, $5, $6, $7)`;
  const dropSql = `SELECT position_ms, position_seq FROM ${s}.drop_topic($1, $2, $3)`;
  const headSql = `SELECT last_ms, last_seq FROM ${s}.topics WHERE topic = $1`;
  const readSql = topicReadSql(schema);
  // Reads are named (prepared once per connection): planning the read costs more than running it.
  const statementPrefix = `repopulse_${channelOf(schema, '').slice(3, 15)}`;
  const readName = `${statementPrefix}_read`;
  const headName = `${statementPrefix}_head`;
  const appendName = `${statementPrefix}_append`;
  const ttlArg = historyTtlMs === undefined ? 0 : Math.ceil(historyTtlMs);
  const topics = new Map<Topic, ListenedTopic>();
  const channelTopics = new Map<string, Set<Topic>>();
  let closed = false;
  let schemaReady: Promise<void> | undefined;
  let liveReadReported = false;
  /**
   * Appends under way through the pool, by `<channel> <server process>`, with the payloads of the
   * notifications from that process on that channel meanwhile: one may be this append's own (a
   * connection runs one statement at a time), so they are held back until the append's result says
   * whether the batch went to the subscribers directly.
   */
  const appending = new Map<string, string[]>();
  /** Counts the listening connection's losses: a batch appended across one is read back as usual. */
  let listenGeneration = 0;

  const isClosed = () => closed;
  const ready = (): Promise<void> => {
    schemaReady ??= ensureSchema(pool, schema, settings.createTables).catch((error: unknown) => {
      schemaReady = undefined;
      throw error;
    });
    return schemaReady;
  };
  /** Runs a statement through the pool, retried while Postgres is unreachable (bounded). */
  const bounded = <T>(what: string, run: (remainingMs: number) => Promise<T>, startedAt?: number) =>
    boundedRetry(
      what,
      timeoutMs,
      isClosed,
      async (remaining) => {
        await ready();
        return run(remaining);
      },
      startedAt,
    );
  /** Runs a statement on the caller's connection (inside its transaction): no retry. */
  const onCaller = async <T>(what: string, run: () => Promise<T>) => {
    if (closed) throw new BusClosedError();
    await boundedRetry(what, timeoutMs, isClosed, ready);
    try {
      return await run();
    } catch (error) {
      throw new BusUnavailableError(`${what}: ${describeError(error)}`, { cause: error });
    }
  };

  const decode = (topic: Topic, source: 'replay' | 'connection') => (json: string) => {
    try {
      return JSON.parse(json) as AnyEnvelope;
    } catch (error) {
      sink.report(error, { topic, source });
      return undefined;
    }
  };
  const readPage = (topic: Topic, cursor: StreamPosition, limit: number, source: 'replay' | 'connection') =>
    bounded(`could not read ${topic}`, async () => {
      const { rows } = await pool.query<PageRow>({
        name: readName,
        text: readSql,
        values: topicReadParams(topic, cursor, limit, historyTtlMs),
      });
      return parseTopicPage(rows, decode(topic, source));
    });
  const readHead = (topic: Topic) =>
    bounded(`could not read the head of ${topic}`, async () => {
      const { rows } = await pool.query<{ last_ms: string; last_seq: string }>({
        name: headName,
        text: headSql,
        values: [topic],
      });
      const row = rows[0];
      return row ? (`${row.last_ms}-${row.last_seq}` as StreamPosition) : ZERO_POSITION;
    });

  /** Reads `topic` after its cursor until the end, handing each event to the sink in order. */
  const readLive = async (topic: Topic, state: ListenedTopic) => {
    for (;;) {
      const cursor = state.cursor;
      if (cursor === undefined) return;
      const page: TopicPage = await readPage(topic, cursor, LIVE_PAGE_SIZE, 'connection');
      if (topics.get(topic) !== state || closed) return;
      if (page.dropped !== undefined && comparePositions(page.dropped, cursor) > 0) {
        state.cursor = page.dropped;
        sink.dropped(topic, page.dropped);
        continue;
      }
      if (decideReplay(cursor, page, 'delivered') !== undefined) {
        // Events after the cursor left the history before this transport read them (or the
        // tables were emptied): every subscription catches up from the store, or is reset.
        state.cursor = page.head;
        sink.interrupted([topic]);
        sink.recovered([topic]);
        return;
      }
      for (const delivery of page.entries) {
        state.cursor = delivery.position;
        sink.live(topic, delivery);
      }
      // A row that could not be decoded was reported and skipped: move past it too, so the next
      // wake-up does not read and report it again.
      if (page.through !== undefined) state.cursor = page.through;
      if (page.rowCount < LIVE_PAGE_SIZE) return;
    }
  };

  /** A notification (or a reconnect) for `topic`: read it, one read at a time per topic. */
  const wake = (topic: Topic) => {
    const state = topics.get(topic);
    if (!state || state.cursor === undefined) return;
    if (state.reading) {
      state.again = true;
      return;
    }
    state.reading = true;
    void (async () => {
      let failures = 0;
      do {
        state.again = false;
        try {
          await readLive(topic, state);
          liveReadReported = false;
        } catch (error) {
          if (closed || topics.get(topic) !== state) break;
          if (!liveReadReported) {
            liveReadReported = true;
            sink.report(error, { topic, source: 'connection' });
          }
          failures++;
          await new Promise((resolve) => setTimeout(resolve, computeBackoff(failures, RECONNECT_BACKOFF)));
          state.again = true;
        }
      } while (state.again && !closed && topics.get(topic) === state);
      state.reading = false;
    })();
  };

  /**
   * A batch this transport appended through the pool and saw commit: when the topic is listened to
   * and its cursor is the head the batch followed (no read under way), nothing can come between, so
   * the new events go to the subscribers now, without reading them back. The batch's notification
   * then announces a position the cursor has reached, and wakes nothing.
   */
  const deliverOwn = (topic: Topic, items: QueuedAppend[], rows: AppendRow[]) => {
    const state = topics.get(topic);
    const first = rows[0];
    if (!state || state.reading || state.cursor === undefined || !first) return;
    if (state.cursor !== `${first.previous_ms}-${first.previous_seq}`) return;
    rows.forEach((row, i) => {
      const item = items[i];
      if (row.stored_envelope !== null || !item) return;
      const position = `${row.position_ms}-${row.position_seq}` as StreamPosition;
      state.cursor = position;
      // As a reader gets it: the stored JSON, not the caller's object.
      sink.live(topic, { position, event: JSON.parse(item.json) as AnyEnvelope });
    });
  };
  /**
   * A notification on `channel` announcing `payload` (a position): wakes each topic of the channel
   * whose cursor is before it. Topics hash to channels, so a channel may carry another topic's
   * positions: a needless read then finds nothing. A payload that is not a position wakes them all.
   */
  const wakeChannel = (channel: string, payload: string) => {
    const known = isPosition(payload);
    for (const topic of channelTopics.get(channel) ?? []) {
      const cursor = topics.get(topic)?.cursor;
      if (!known || cursor === undefined || comparePositions(payload, cursor) > 0) wake(topic);
    }
  };

  /** An append through the pool, on a connection of its own so its notifications are recognised. */
  const appendThroughPool = async (topic: Topic, items: QueuedAppend[], lockTimeoutMs: number) => {
    const client = await pool.connect();
    // A checked-out client has no error listener: a connection lost mid-query rejects the query,
    // and must not also crash the process with an unhandled 'error' event.
    client.on('error', ignoreConnectionError);
    const processId = (client as pg.PoolClient & { processID?: number }).processID;
    const channel = channelOf(schema, topic);
    const key = `${channel} ${processId}`;
    const generation = listenGeneration;
    const held: string[] = [];
    const watched = topics.has(topic) && !appending.has(key);
    if (watched) appending.set(key, held);
    let rows: AppendRow[] | undefined;
    try {
      rows = await appendOn(client, topic, items, lockTimeoutMs, true);
      client.off('error', ignoreConnectionError);
      client.release();
      return rows;
    } catch (error) {
      client.off('error', ignoreConnectionError);
      client.release(error instanceof Error ? error : true);
      throw error;
    } finally {
      if (watched) {
        appending.delete(key);
        if (
          rows !== undefined &&
          rows[0]?.notifier === processId &&
          generation === listenGeneration &&
          listener.isUp
        ) {
          deliverOwn(topic, items, rows);
        }
        // The notifications held back meanwhile wake what the batch did not bring up to date.
        for (const payload of held) wakeChannel(channel, payload);
      }
    }
  };

  const listener = new ListenConnection(settings.makeListenClient, {
    notified(channel, sender, payload) {
      const held = appending.get(`${channel} ${sender}`);
      if (held) held.push(payload);
      else wakeChannel(channel, payload);
    },
    down() {
      listenGeneration++;
      sink.interrupted();
    },
    up() {
      listenGeneration++;
      for (const topic of topics.keys()) wake(topic);
      sink.recovered();
    },
    error: (error) => sink.report(error, { source: 'connection' }),
  });

  /** One append statement: `items` in order, on `client` (the pool, or the caller's connection). */
  const appendOn = async (
    client: pg.Pool | pg.ClientBase,
    topic: Topic,
    items: QueuedAppend[],
    lockTimeoutMs: number | null,
    prepared: boolean,
  ) => {
    const values = [
      topic,
      channelOf(schema, topic),
      items.map((item) => item.id),
      items.map((item) => item.json),
      historyLimit,
      ttlArg,
      lockTimeoutMs,
    ];
    // Named (prepared once per pooled connection) on the bus's own path; unnamed on the caller's
    // connection, which the bus should not leave prepared statements on.
    const { rows } = await client.query<AppendRow>(
      prepared ? { name: appendName, text: appendSql, values } : { text: appendSql, values },
    );
    if (rows.length !== items.length) {
      throw new BusUnavailableError(
        `the append function returned ${rows.length} rows for ${items.length} events`,
      );
    }
    return rows;
  };
  const batches = new TopicBatches<AppendRow>(
    {
      append: (topic, items) =>
        bounded(
          `could not publish to ${topic}`,
          (remaining) => appendThroughPool(topic, items, lockTimeoutFor(remaining)),
          Math.min(...items.map((item) => item.startedAt)),
        ),
      drop: async (topic, startedAt) => {
        await bounded(
          `could not drop ${topic}`,
          (remaining) => pool.query(dropSql, [topic, channelOf(schema, topic), lockTimeoutFor(remaining)]),
          startedAt,
        );
      },
    },
    MAX_BATCH,
  );

  // Connect and check the schema at once, as the first publish or subscribe would.
  listener.whenUp(timeoutMs).catch(() => {});
  ready().catch(() => {});

  const transport = {
    system: 'postgresql',
    async append(topic, event, json): Promise<AppendResult> {
      const caller = callerTransaction.getStore();
      const row = caller
        ? (
            await onCaller(`could not publish to ${topic}`, () =>
              appendOn(caller, topic, [{ id: event.id, json, startedAt: Date.now() }], null, false),
            )
          )[0]
        : await batches.append(topic, { id: event.id, json, startedAt: Date.now() });
      if (!row)
        throw new BusUnavailableError(`could not publish to ${topic}: the append function returned nothing`);
      const position = `${row.position_ms}-${row.position_seq}` as StreamPosition;
      if (row.stored_envelope === null) return position;
      return { position, event: JSON.parse(row.stored_envelope) as AnyEnvelope };
    },

    async drop(topic) {
      const caller = callerTransaction.getStore();
      if (!caller) return batches.drop(topic);
      await onCaller(`could not drop ${topic}`, () =>
        caller.query(dropSql, [topic, channelOf(schema, topic), null]),
      );
    },

    async read(topic, cursor, limit): Promise<ReadResult> {
      const {
        dropped: _dropped,
        through: _through,
        rowCount: _rowCount,
        ...page
      } = await readPage(topic, cursor, limit, 'replay');
      return page;
    },

    head: (topic) => readHead(topic),

    async listen(topic) {
      let state = topics.get(topic);
      if (!state) {
        state = {
          refs: 0,
          channel: channelOf(schema, topic),
          cursor: undefined,
          reading: false,
          again: false,
        };
        topics.set(topic, state);
        let named = channelTopics.get(state.channel);
        if (!named) {
          named = new Set();
          channelTopics.set(state.channel, named);
        }
        named.add(topic);
      }
      state.refs++;
      await listener.acquire(state.channel, timeoutMs);
      if (state.cursor === undefined) {
        const head = await readHead(topic);
        state.cursor ??= head;
      }
      if (closed) throw new BusClosedError();
      // A notification may have come before the cursor was known: read once now.
      wake(topic);
    },

    async unlisten(topic) {
      const state = topics.get(topic);
      if (!state) return;
      listener.release(state.channel);
      if (--state.refs > 0) return;
      topics.delete(topic);
      const named = channelTopics.get(state.channel);
      named?.delete(topic);
      if (named?.size === 0) channelTopics.delete(state.channel);
    },

    isLive: () => listener.isUp,

    whenReachable: () => bounded('Postgres is not reachable', () => pool.query('SELECT 1')).then(() => {}),

    async close() {
      if (closed) return;
      closed = true;
      topics.clear();
      channelTopics.clear();
      await listener.close();
      if (settings.ownsPool) await pool.end().catch(() => {});
    },
  } satisfies BusTransport;
  return transport;
}

/** Swallows a checked-out client's 'error' event: the failed query already rejects with it. */
function ignoreConnectionError(): void {}
