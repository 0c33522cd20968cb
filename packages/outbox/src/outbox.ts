import {
  type AnyEnvelope,
  DEFAULT_MAX_EVENT_BYTES,
  type Envelope,
  type EventBus,
  type EventType,
  type Topic,
} from '@repopulse/events-core';
import {
  assertTopic,
  checkOptions,
  createErrorLog,
  errorLogKey,
  requireOption,
  resolveErrorHandler,
  validatedEnvelopeJson,
} from '@repopulse/events-core/bus-kit';
import { outboxTelemetry } from './metrics';
import { OutboxError } from './outbox-error';
import { Relay } from './relay';
import type { OutboxBatchWriter, OutboxRowInput, OutboxStore } from './store';

/** Receives what the relay cannot tell a caller: a bus outage, a store failure, a refused event. */
export type OutboxErrorHandler = (error: OutboxError) => void;

/** Options of {@link createOutbox}. */
export interface OutboxOptions<Tx, Written extends void | Promise<void>> {
  /**
   * Where events are written and read: `createSqliteStore(db)` from `@repopulse/outbox/sqlite`,
   * `await createPostgresStore({ pool })` from `@repopulse/outbox/postgres`, or your own.
   * @example createSqliteStore(db)
   */
  store: OutboxStore<Tx, Written>;
  /**
   * The bus the relay publishes to (any `EventBus`: memory, Redis, …).
   * @example createMemoryBus()
   */
  bus: EventBus;
  /**
   * Run a relay in this process. With `false` the outbox only writes (`enqueue`) and another process
   * relays. Every process may relay: on Postgres exactly one of them does at a time.
   * @default true
   */
  relay?: boolean;
  /**
   * Rows the relay reads per query.
   * @default 500
   */
  batchSize?: number;
  /**
   * Publishes in flight at once per topic (issued in one tick, in commit order). After a failed publish
   * the relay sends one at a time until one succeeds.
   * @default 64
   */
  maxInFlight?: number;
  /**
   * First delay before retrying after the bus or the database failed; it doubles per failure.
   * @default 100
   */
  retryMinMs?: number;
  /**
   * Longest delay between retries.
   * @default 5000
   */
  retryMaxMs?: number;
  /**
   * Interval of the fallback sweep, which finds rows no wake-up announced (e.g. committed by a
   * process that died before its relay ran). Wake-ups at commit do not wait for it.
   * @default 5000
   */
  sweepMs?: number;
  /**
   * How long delivered rows stay in the table (for inspection) before the sweep deletes them; with 0
   * a row is deleted as soon as it is delivered.
   * @default 0
   */
  keepDeliveredMs?: number;
  /**
   * Largest accepted envelope in bytes of UTF-8 JSON; a larger one is refused at `enqueue`. Keep it at
   * most the bus's own `maxEventBytes`.
   * @default 65536
   */
  maxEventBytes?: number;
  /**
   * Called with what the relay cannot tell a caller ({@link OutboxError}, with the topic and row).
   * @default logs with console.error, rate-limited per code
   */
  onError?: OutboxErrorHandler;
}

/** What {@link Outbox.stats} reports. */
export interface OutboxStats {
  /** Events committed and not yet delivered (the backlog), in every process's rows. */
  pending: number;
  /** Age in ms of the oldest undelivered event; `undefined` when nothing is pending. */
  oldestPendingAgeMs: number | undefined;
  /** Events the bus refused for good: kept in the table, marked failed, never relayed. */
  failed: number;
  /** Events this process's relay published since it started. */
  delivered: number;
  /**
   * Of those, events the bus already held, so it stored nothing (a relay published them before
   * crashing or losing its lease, without marking their rows).
   */
  duplicates: number;
  /** True while this process holds the relay lease (on Postgres, one process at a time). */
  relaying: boolean;
  /** True while the bus is failing and the relay is backing off. */
  retrying: boolean;
}

/**
 * What `enqueue` returns: the validated envelope as it will be published, at once for a synchronous
 * store (SQLite), as a promise for an asynchronous one (Postgres).
 */
export type Enqueued<Written, E> = Written extends Promise<void> ? Promise<E> : E;

/** One event of {@link Outbox.enqueueMany}: the topic it goes to and the envelope. */
export interface OutboxEntry {
  /** The topic the event goes to. */
  topic: Topic;
  /** The envelope (`createEvent`'s); the same one may go to several topics. */
  event: AnyEnvelope | Envelope<EventType>;
}

/** A transactional outbox: events written with the state change, relayed to the bus after commit. */
export interface Outbox<Tx, Written extends void | Promise<void>> {
  /**
   * Validates `event` and writes it inside the transaction `tx` is in. It is published if and only
   * if that transaction commits, in commit order per topic, once. Throws `EventValidationError` for an
   * invalid event and `BusError('invalid_topic')` for a bad topic, writing nothing, so the caller's
   * transaction can roll back. Works after `close()` too (the rows wait for a relay).
   *
   * @example
   * ```ts
   * db.transaction(() => {
   *   db.prepare('UPDATE tasks SET status = ? WHERE id = ?').run('running', 7);
   *   outbox.enqueue(db, 'repo:42', createEvent('task.status_changed', { from: 'queued', to: 'running' }));
   * })();
   * ```
   */
  enqueue<K extends EventType>(tx: Tx, topic: Topic, event: Envelope<K>): Enqueued<Written, Envelope<K>>;
  /**
   * Like `enqueue` for each entry in turn (per topic in array order), in one write where the store
   * can (Postgres: one statement, one round trip). Every entry is validated before anything is
   * written: an invalid one throws as `enqueue` does and none is written. Returns the envelopes in
   * entry order. For the events one change emits on several topics.
   *
   * @example
   * ```ts
   * const event = createEvent('repo.status_changed', { from: 'ready', to: 'analyzing' }, { repo_id: 42 });
   * await outbox.enqueueMany(client, [
   *   { topic: 'repo:42', event },
   *   { topic: 'repos', event },
   * ]);
   * ```
   */
  enqueueMany(tx: Tx, entries: readonly OutboxEntry[]): Enqueued<Written, AnyEnvelope[]>;
  /** The backlog, its oldest event's age, failures, and what this process's relay is doing. */
  stats(): Promise<OutboxStats>;
  /**
   * Resolves once every row committed before the call is delivered (or marked failed), by this
   * process's relay or another's; rejects with `OutboxError('drain_timeout')` after `timeoutMs`.
   * For graceful shutdowns and tests.
   * @default timeoutMs 30000
   */
  drained(timeoutMs?: number): Promise<void>;
  /**
   * Stops this process's relay: in-flight publishes finish and are marked, the lease passes to
   * another process. Leaves the bus and the database open (they are yours).
   */
  close(): Promise<void>;
}

const OPTION_KEYS = [
  'relay',
  'batchSize',
  'maxInFlight',
  'retryMinMs',
  'retryMaxMs',
  'sweepMs',
  'keepDeliveredMs',
  'maxEventBytes',
  'onError',
] as const;

const outboxErrorLog = createErrorLog();

/** The default `onError`: `console.error`, one line per code and topic per minute. */
const logOutboxError: OutboxErrorHandler = (error) => {
  outboxErrorLog(
    errorLogKey('outbox', error),
    `[repopulse] outbox${error.topic ? ` on ${error.topic}` : ''}:`,
    error,
  );
};

/**
 * Creates an outbox over `store` that relays to `bus`. The relay starts at once (unless
 * `relay: false`): it wakes up when a transaction that enqueued commits, and sweeps slowly as a
 * fallback; it publishes each topic's events in commit order, retries with capped backoff while the
 * bus is down, and marks each row once the bus stored its event.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import { createMemoryBus } from '@repopulse/bus-memory';
 * import { createOutbox } from '@repopulse/outbox';
 * import { createSqliteStore } from '@repopulse/outbox/sqlite';
 *
 * const db = new Database('app.db');
 * const outbox = createOutbox({ store: createSqliteStore(db), bus: createMemoryBus() });
 * ```
 */
export function createOutbox<Tx, Written extends void | Promise<void>>(
  options: OutboxOptions<Tx, Written>,
): Outbox<Tx, Written> {
  const scope = 'createOutbox';
  checkOptions(scope, options, { required: ['store', 'bus'], optional: OPTION_KEYS });
  const {
    store,
    bus,
    relay: relayHere = true,
    batchSize = 500,
    maxInFlight = 64,
    retryMinMs = 100,
    retryMaxMs = 5000,
    sweepMs = 5000,
    keepDeliveredMs = 0,
    maxEventBytes,
    onError,
  } = options;
  requireOption(
    scope,
    'store',
    typeof store?.write === 'function' && typeof store.pending === 'function',
    'an OutboxStore',
    store,
  );
  requireOption(scope, 'bus', typeof bus?.publish === 'function', 'an EventBus', bus);
  requireOption(scope, 'relay', typeof relayHere === 'boolean', 'a boolean', relayHere);
  const positiveInteger = (name: string, value: unknown) =>
    requireOption(scope, name, Number.isInteger(value) && (value as number) > 0, 'a positive integer', value);
  positiveInteger('batchSize', batchSize);
  positiveInteger('maxInFlight', maxInFlight);
  positiveInteger('retryMinMs', retryMinMs);
  positiveInteger('sweepMs', sweepMs);
  requireOption(
    scope,
    'retryMaxMs',
    Number.isInteger(retryMaxMs) && retryMaxMs >= retryMinMs,
    'an integer ≥ retryMinMs',
    retryMaxMs,
  );
  requireOption(
    scope,
    'keepDeliveredMs',
    Number.isInteger(keepDeliveredMs) && keepDeliveredMs >= 0,
    'a non-negative integer',
    keepDeliveredMs,
  );
  if (maxEventBytes !== undefined) positiveInteger('maxEventBytes', maxEventBytes);
  const report: (error: OutboxError) => void = resolveErrorHandler(scope, onError, logOutboxError);
  const eventBytes = maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;

  const relay = new Relay(store as OutboxStore<never>, bus, {
    batchSize,
    maxInFlight,
    retryMinMs,
    retryMaxMs,
    sweepMs,
    keepDeliveredMs,
    report: (error) => report(error),
  });
  if (relayHere) relay.start();
  let closed = false;

  // Wake-ups of a synchronous store: after the current task, when its transaction has committed.
  const toWake = new Set<string>();
  const wakeSoon = (topic: string) => {
    if (store.wakesAtCommit || !relayHere) return;
    if (toWake.size === 0) {
      setImmediate(() => {
        for (const t of toWake) relay.wake(t);
        toWake.clear();
      });
    }
    toWake.add(topic);
  };

  const stats = async (): Promise<OutboxStats> => {
    const backlog = await store.backlog();
    return {
      pending: backlog.pending,
      oldestPendingAgeMs:
        backlog.oldestPendingAt === undefined ? undefined : Math.max(0, Date.now() - backlog.oldestPendingAt),
      failed: backlog.failed,
      delivered: relay.delivered,
      duplicates: relay.duplicates,
      relaying: relay.relaying,
      retrying: relay.retrying,
    };
  };
  const telemetry = outboxTelemetry(stats);

  /** Checks the topic and the event; the row to write and the envelope as it will be published. */
  const validated = (topic: Topic, event: AnyEnvelope | Envelope<EventType>, createdAt: number) => {
    assertTopic(topic);
    // A `createEvent` envelope keeps the JSON text its validation made: stored as it is.
    const { envelope, json } = validatedEnvelopeJson(event, eventBytes) as {
      envelope: AnyEnvelope;
      json: string;
    };
    const row: OutboxRowInput = { topic, eventId: envelope.id, event: json, createdAt };
    return { envelope, row };
  };
  /** Waits for `written` (if a promise), wakes the relay for `topics`, then gives `result`. */
  const afterWrite = <R>(written: void | Promise<void>, topics: readonly Topic[], result: R) => {
    const wake = () => {
      for (const topic of topics) wakeSoon(topic);
      return result;
    };
    return (written instanceof Promise ? written.then(wake) : wake()) as Enqueued<Written, R>;
  };
  const writeMany = (store as Partial<OutboxBatchWriter<Tx, Written>>).writeMany;
  /** Writes rows one by one, each after the previous one's write settled (no `writeMany`). */
  const writeEach = (tx: Tx, rows: OutboxRowInput[]): void | Promise<void> => {
    for (let i = 0; i < rows.length; i++) {
      const written = store.write(tx, rows[i] as OutboxRowInput);
      if (written instanceof Promise) return written.then(() => writeEach(tx, rows.slice(i + 1)));
    }
  };

  return {
    enqueue<K extends EventType>(tx: Tx, topic: Topic, event: Envelope<K>) {
      const { envelope, row } = validated(topic, event, Date.now());
      return afterWrite(store.write(tx, row), [topic], envelope as unknown as Envelope<K>);
    },
    enqueueMany(tx: Tx, entries: readonly OutboxEntry[]) {
      if (!Array.isArray(entries)) {
        throw new OutboxError('invalid_entries', 'enqueueMany() takes an array of { topic, event }');
      }
      const now = Date.now();
      const made = entries.map((entry: OutboxEntry | undefined) => {
        if (typeof entry !== 'object' || entry === null) {
          throw new OutboxError('invalid_entries', 'enqueueMany() takes an array of { topic, event }');
        }
        return validated(entry.topic, entry.event, now);
      });
      const rows = made.map((m) => m.row);
      const envelopes = made.map((m) => m.envelope);
      if (rows.length === 0) return afterWrite(undefined, [], envelopes);
      const written = writeMany ? writeMany.call(store, tx, rows) : writeEach(tx, rows);
      return afterWrite(written, [...new Set(rows.map((r) => r.topic))], envelopes);
    },
    stats,
    async drained(timeoutMs = 30_000) {
      if (closed && relayHere) throw new OutboxError('outbox_closed', 'drained() was called after close()');
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const { pending } = await store.backlog();
        if (pending === 0) return;
        if (Date.now() > deadline) {
          throw new OutboxError('drain_timeout', `${pending} event(s) still pending after ${timeoutMs} ms`);
        }
        relay.wake();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    async close() {
      closed = true;
      telemetry?.dispose();
      await relay.close();
    },
  };
}
