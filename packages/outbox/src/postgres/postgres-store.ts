import { checkOptions, requireOption } from '@repopulse/events-core/bus-kit';
import type { OutboxBatchWriter, OutboxStore } from '../store';
import { DEFAULT_OUTBOX_TABLE, quotedTable } from '../table-name';
import { CoalescedRuns } from './coalesced-runs';
import { watchTransactionEnd } from './commit-watch';
import { takeLease } from './postgres-lease';
import type { PgPool, PgQueryable, PgResult } from './postgres-types';
import { RELAY_STATEMENT_INTERVAL_MS, relayStatements } from './relay-statements';

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * A pg `Pool` (pg 8) for the relay's reads and marks. The relay also keeps one of its connections
   * for its lease (the leader's, or a standby's waiting for it): size the pool for it.
   * @example new pg.Pool({ connectionString: process.env.DATABASE_URL })
   */
  pool: PgPool;
  /**
   * The outbox table (`name` or `schema.name`), created if missing with its indexes.
   * @default 'repopulse_outbox'
   */
  table?: string;
}

/** The first half of the relay lock's key ('rpob'); the table's oid is the second. */
const LOCK_CLASS = 0x72706f62n;
const PENDING = 'delivered_at IS NULL AND failed_at IS NULL';

/**
 * The outbox store for Postgres through pg 8: `await outbox.enqueue(client, topic, event)` writes a
 * row with the client of the caller's `BEGIN … COMMIT`. Creates the table if missing.
 *
 * **Commit order.** Sequence values are handed out before commit, so `enqueue` first takes a
 * transaction-scoped advisory lock on the topic (`pg_advisory_xact_lock`): of two transactions
 * enqueueing to one topic the second waits, from its `enqueue` to the first one's commit, and ids
 * follow commit order per topic. Transactions enqueueing to different topics never wait for each other.
 *
 * **Several topics at once.** `outbox.enqueueMany(client, entries)` writes its rows in one statement
 * (one round trip): the topics' locks in array order, as that many `enqueue`s would take them, then
 * the rows. A wrapper made by spreading this store and replacing `write` writes them one by one
 * through its `write` (this store's `writeMany` is not enumerable).
 *
 * **One relay at a time.** Every process may run a relay; one holds a session advisory lock on the
 * table and relays, the others wait for it in the server and take over the moment its session ends.
 *
 * **Wake-up at commit.** `enqueue` watches the client's connection for the end of the transaction:
 * in the relaying process it wakes the relay at once; elsewhere it sends `NOTIFY` (outside the
 * transaction) to the relaying process, which `LISTEN`s: one statement for every topic committed
 * since the last one, at most one per 5 ms. A handle whose connection cannot be watched (a query
 * builder's wrapper) has `NOTIFY` sent inside the transaction instead, which Postgres delivers at
 * commit but which serializes the commits of the transactions doing it.
 *
 * **Few relay statements.** The relay's reads and marks share statements: each one marks the ranges
 * delivered since the previous one and reads every waiting topic, at most one in flight and one per
 * 5 ms (a commit after a quiet spell is read at once). A delivered row is deleted by the next one;
 * the marks still queued are written before the lease is given up.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
 * const outbox = createOutbox({ store: await createPostgresStore({ pool }), bus });
 * const client = await pool.connect();
 * await client.query('BEGIN');
 * await client.query('UPDATE tasks SET status = $1 WHERE id = $2', ['completed', 7]);
 * await outbox.enqueue(client, 'repo:42', createEvent('task.status_changed', { from: 'running', to: 'completed' }));
 * await client.query('COMMIT');
 * client.release();
 * ```
 */
export async function createPostgresStore(
  options: PostgresStoreOptions,
): Promise<OutboxStore<PgQueryable, Promise<void>>> {
  const scope = 'createPostgresStore';
  checkOptions(scope, options, { required: ['pool'], optional: ['table'] });
  const { pool } = options;
  requireOption(
    scope,
    'pool',
    typeof pool?.connect === 'function' && typeof pool.query === 'function',
    'a pg Pool',
    pool,
  );
  const name = options.table ?? DEFAULT_OUTBOX_TABLE;
  const table = quotedTable(scope, name, true);
  const index = (suffix: string) => `"${name.replace('.', '_')}_${suffix}"`;
  const setup = await pool.connect();
  let oid: number;
  try {
    await setup.query('BEGIN');
    // Serializes the CREATEs of processes starting together (CREATE IF NOT EXISTS races otherwise).
    // No primary key: every statement finds rows by the pending index, `(topic, id)`, so an insert
    // adds one index entry, not two.
    await setup.query('SELECT pg_advisory_xact_lock($1::bigint)', [String(LOCK_CLASS << 32n)]);
    await setup.query(`
      CREATE TABLE IF NOT EXISTS ${table} (
        id bigserial NOT NULL,
        topic text NOT NULL,
        event_id text NOT NULL,
        event text NOT NULL,
        created_at bigint NOT NULL,
        delivered_at bigint,
        failed_at bigint,
        error text
      )`);
    await setup.query(
      `CREATE INDEX IF NOT EXISTS ${index('pending')} ON ${table} (topic, id) WHERE ${PENDING}`,
    );
    await setup.query(
      `CREATE INDEX IF NOT EXISTS ${index('failed')} ON ${table} (id) WHERE failed_at IS NOT NULL`,
    );
    await setup.query(
      `CREATE INDEX IF NOT EXISTS ${index('delivered')} ON ${table} (delivered_at) WHERE delivered_at IS NOT NULL`,
    );
    const found = await setup.query('SELECT $1::regclass::oid AS oid', [table]);
    oid = Number(found.rows[0]?.oid);
    await setup.query('COMMIT');
    setup.release();
  } catch (error) {
    await setup.query('ROLLBACK').catch(() => {});
    setup.release(error instanceof Error ? error : true);
    throw error;
  }
  const topicLockClass = oid | 0; // int4 key of the per-topic lock: the table's oid
  const leaseKey = String((LOCK_CLASS << 32n) | BigInt(oid));
  const channel = `repopulse_outbox_${oid}`;
  const insert = `
    WITH topic_lock AS (SELECT pg_advisory_xact_lock($1::int4, hashtext($2)))
    INSERT INTO ${table} (topic, event_id, event, created_at)
    SELECT $2, $3, $4, $5 FROM topic_lock`;
  // Several rows in one statement: the locks of their topics first, every one before any id is drawn,
  // in array order (as that many `enqueue`s would take them: mixing both never adds a deadlock), then
  // the rows in array order.
  const insertMany = `
    WITH topic_lock AS MATERIALIZED (
      SELECT count(pg_advisory_xact_lock($1::int4, hashtext(t))) AS locked
      FROM (SELECT t FROM unnest($2::text[]) WITH ORDINALITY AS u(t, n) ORDER BY n) AS topics)
    INSERT INTO ${table} (topic, event_id, event, created_at)
    SELECT r.topic, r.event_id, r.event, r.created_at
    FROM topic_lock, unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) WITH ORDINALITY
      AS r(topic, event_id, event, created_at, n)
    ORDER BY r.n`;
  const statementPrefix = `repopulse_outbox_${oid}`;
  const insertStatement = `${statementPrefix}_insert`;
  const relay = relayStatements(pool, table, PENDING, `${statementPrefix}_relay`);
  // For a transaction handle whose end cannot be watched: the server announces the commit itself.
  const insertAndNotify = `${insert} RETURNING pg_notify($6, $2)`;
  const insertManyAndNotify = `${insertMany} RETURNING pg_notify($6, topic)`;
  let watcher: ((topic?: string) => void) | undefined;
  let leading = false;
  // Topics committed here for the relay of another process: one NOTIFY per interval carries them all.
  let toNotify = new Set<string>();
  const notifications = new CoalescedRuns(RELAY_STATEMENT_INTERVAL_MS, async () => {
    const topics = [...toNotify];
    toNotify = new Set();
    await pool.query('SELECT pg_notify($1, t) FROM unnest($2::text[]) AS t', [channel, topics]).catch(() => {
      // The relay's sweep finds the rows.
    });
  });
  /** After a watched transaction ended: wake this process's relay, or the one that leads. */
  const announce = (topics: string[]) => {
    if (leading && watcher) {
      for (const topic of topics) watcher(topic);
      return;
    }
    for (const topic of topics) toNotify.add(topic);
    notifications.request();
  };

  const store: OutboxStore<PgQueryable, Promise<void>> = {
    wakesAtCommit: true,
    async write(tx, row) {
      const values = [topicLockClass, row.topic, row.eventId, row.event, row.createdAt];
      // NOTIFY inside the caller's transaction would serialize the commits of every transaction that
      // enqueues (Postgres takes one lock for all notifying commits): watch for its end instead.
      // A pg client's end can be watched; it also runs the insert as a statement prepared once per
      // connection (parsed and planned once, not per transaction).
      if (watchTransactionEnd(tx, row.topic, announce)) await prepared(tx, insertStatement, insert, values);
      else await tx.query(insertAndNotify, [...values, channel]);
    },
    async pendingTopics() {
      const result = await pool.query(`SELECT DISTINCT topic FROM ${table} WHERE ${PENDING}`);
      return result.rows.map((r) => r.topic as string);
    },
    pending: (topic, limit) => relay.pending(topic, limit),
    async markDelivered(topic, firstId, lastId, prune) {
      relay.markDelivered(topic, firstId, lastId, prune);
    },
    async markFailed(topic, id, reason) {
      await pool.query(
        `UPDATE ${table} SET failed_at = $3, error = $4 WHERE topic = $1 AND id = $2 AND ${PENDING}`,
        [topic, id, Date.now(), reason],
      );
    },
    async prune(before) {
      const result = await pool.query(
        `WITH gone AS (DELETE FROM ${table} WHERE delivered_at IS NOT NULL AND delivered_at < $1 RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
        [before],
      );
      return Number(result.rows[0]?.n ?? 0);
    },
    async backlog() {
      const result = await pool.query(
        `SELECT (SELECT count(*)::int FROM ${table} WHERE ${PENDING}) AS pending,
                (SELECT min(created_at) FROM ${table} WHERE ${PENDING}) AS oldest,
                (SELECT count(*)::int FROM ${table} WHERE failed_at IS NOT NULL) AS failed`,
      );
      const row = result.rows[0] ?? {};
      return {
        pending: Number(row.pending ?? 0),
        failed: Number(row.failed ?? 0),
        oldestPendingAt: row.oldest == null ? undefined : Number(row.oldest),
      };
    },
    async lead(lost, signal) {
      const lease = await takeLease(
        pool,
        leaseKey,
        channel,
        (topic) => watcher?.(topic || undefined),
        () => {
          leading = false;
          lost();
        },
        signal,
      );
      leading = true;
      return {
        get held() {
          return lease.held;
        },
        async release() {
          leading = false;
          // The marks still queued are written before another process may lead.
          await relay.flush().catch(() => {});
          await lease.release();
        },
      };
    },
    async watch(wake) {
      watcher = wake;
      return async () => {
        if (watcher === wake) watcher = undefined;
      };
    },
  };
  // Not enumerable: a wrapper made by spreading the store and replacing `write` leaves it behind
  // (its `write` then writes every row of `enqueueMany`).
  const writeMany: OutboxBatchWriter<PgQueryable, Promise<void>>['writeMany'] = async (tx, rows) => {
    const values = [
      topicLockClass,
      rows.map((r) => r.topic),
      rows.map((r) => r.eventId),
      rows.map((r) => r.event),
      rows.map((r) => r.createdAt),
    ];
    let watched = true;
    for (const topic of new Set(values[1] as string[])) watched = watchTransactionEnd(tx, topic, announce);
    if (watched) await prepared(tx, `${insertStatement}_many`, insertMany, values);
    else await tx.query(insertManyAndNotify, [...values, channel]);
  };
  Object.defineProperty(store, 'writeMany', { value: writeMany, enumerable: false });
  return store;
}

/**
 * Runs `text` as the statement `name`, which pg prepares once per connection and reuses (`name`
 * must always stand for the same text).
 */
function prepared(on: PgQueryable, name: string, text: string, values: unknown[]): Promise<PgResult> {
  return (on as unknown as NamedQueryable).query({ name, text, values });
}

/** pg's `query` with a statement name (a `Client`, a `PoolClient` or a `Pool` of pg 8). */
interface NamedQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<PgResult>;
}
