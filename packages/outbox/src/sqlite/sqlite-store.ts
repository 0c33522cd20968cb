import { checkOptions } from '@repopulse/events-core/bus-kit';
import { OutboxError } from '../outbox-error';
import type { OutboxRowInput, OutboxStore, StoreBacklog } from '../store';
import { DEFAULT_OUTBOX_TABLE, quotedTable } from '../table-name';
import { ReadAhead } from './read-ahead';

/** A prepared statement, as better-sqlite3 makes them. */
export interface SqliteStatement {
  /** Runs the statement. */
  run(...params: unknown[]): unknown;
  /** Every row. */
  all(...params: unknown[]): unknown[];
  /** The first row. */
  get(...params: unknown[]): unknown;
}

/** The part of a better-sqlite3 `Database` the store uses (better-sqlite3 12 or newer). */
export interface SqliteDatabase {
  /** True while a transaction is open on the connection. */
  readonly inTransaction: boolean;
  /** Prepares `source`. */
  prepare(source: string): SqliteStatement;
  /** Runs SQL without results. */
  exec(source: string): unknown;
}

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The outbox table, created if missing (with its indexes).
   * @default 'repopulse_outbox'
   */
  table?: string;
}

/** How often the relay looks again while the connection it shares has a transaction open. */
const BUSY_RETRY_MS = 2;

/** One window's marks, waiting for the commit that holds every topic's marks of the moment. */
interface QueuedMark {
  topic: string;
  firstId: number;
  lastId: number;
  prune: boolean;
  done: (error?: unknown) => void;
}

/**
 * The outbox store for a better-sqlite3 database (12 or newer): `enqueue(db, topic, event)` writes a
 * row synchronously inside the transaction open on `db` (`db.transaction(fn)` or `BEGIN`), and throws
 * `OutboxError('not_in_transaction')` outside one. Creates the table if missing.
 *
 * SQLite has one writer at a time and the table's ids are never reused (the row with the largest id
 * is kept, marked, until a larger one exists), so a row committed later has a larger id: the relay publishes in commit order with no lock. It reads and
 * marks rows through the same connection, never while a transaction is open on it, and wakes up
 * right after the transaction that enqueued returns. The table has no index on pending rows, so an
 * insert writes the table's last page alone: the relay reads pending rows ahead in id order and keeps
 * them per topic in memory (at most 10,000) until they are marked. The marks of every topic drained
 * at the same moment go in one commit.
 *
 * Several processes on one file each relay (SQLite cannot wake another process at commit): each
 * publishes a topic's rows in id order, and the bus's idempotent append stores an event two relays
 * both sent once, so the topic keeps commit order. Use a bus they share (Redis).
 *
 * @example
 * ```ts
 * const db = new Database('app.db');
 * const outbox = createOutbox({ store: createSqliteStore(db), bus });
 * db.transaction(() => {
 *   db.prepare('UPDATE tasks SET status = ? WHERE id = ?').run('completed', 7);
 *   outbox.enqueue(db, 'repo:42', createEvent('task.status_changed', { from: 'running', to: 'completed' }));
 * })();
 * ```
 */
export function createSqliteStore(
  db: SqliteDatabase,
  options: SqliteStoreOptions = {},
): OutboxStore<SqliteDatabase, void> {
  const scope = 'createSqliteStore';
  checkOptions(scope, options, { optional: ['table'] });
  const name = options.table ?? DEFAULT_OUTBOX_TABLE;
  const table = quotedTable(scope, name, false);
  // No index on pending rows: an insert writes the table's last page and nothing else. The relay
  // reads pending rows in id order (see ReadAhead); the two partial indexes hold marked rows only.
  db.exec(`
    CREATE TABLE IF NOT EXISTS ${table} (
      id INTEGER PRIMARY KEY,
      topic TEXT NOT NULL,
      event_id TEXT NOT NULL,
      event TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      delivered_at INTEGER,
      failed_at INTEGER,
      error TEXT
    );
    DROP INDEX IF EXISTS "${name}_pending";
    CREATE INDEX IF NOT EXISTS "${name}_failed" ON ${table} (id) WHERE failed_at IS NOT NULL;
    CREATE INDEX IF NOT EXISTS "${name}_delivered" ON ${table} (delivered_at) WHERE delivered_at IS NOT NULL;
  `);
  const PENDING = 'delivered_at IS NULL AND failed_at IS NULL';
  const insertSql = `INSERT INTO ${table} (topic, event_id, event, created_at) VALUES (?, ?, ?, ?)`;
  const insert = db.prepare(insertSql);
  let wake: ((topic?: string) => void) | undefined;
  const readAhead = new ReadAhead(
    {
      after: db.prepare(
        `SELECT id, topic, event FROM ${table} WHERE id > ? AND ${PENDING} ORDER BY id LIMIT ?`,
      ),
      topicAfter: db.prepare(
        `SELECT id, event FROM ${table} WHERE topic = ? AND id > ? AND ${PENDING} ORDER BY id LIMIT ?`,
      ),
      topicsAfter: db.prepare(`SELECT DISTINCT topic FROM ${table} WHERE id > ? AND ${PENDING}`),
      newest: db.prepare(`SELECT max(id) AS id FROM ${table}`),
    },
    (topic) => wake?.(topic),
  );
  const deliverRange = db.prepare(
    `UPDATE ${table} SET delivered_at = ? WHERE topic = ? AND id BETWEEN ? AND ? AND ${PENDING}`,
  );
  const deliver = db.prepare(`UPDATE ${table} SET delivered_at = ? WHERE id = ? AND ${PENDING}`);
  // The row with the largest id is never deleted (only marked): SQLite gives a new row that id plus
  // one, so ids are never reused, without AUTOINCREMENT's extra write per insert.
  const NOT_LAST = `id < (SELECT max(id) FROM ${table})`;
  const removeRange = db.prepare(
    `DELETE FROM ${table} WHERE topic = ? AND id BETWEEN ? AND ? AND ${PENDING} AND ${NOT_LAST}`,
  );
  const remove = db.prepare(`DELETE FROM ${table} WHERE id = ? AND ${PENDING} AND ${NOT_LAST}`);
  const fail = db.prepare(
    `UPDATE ${table} SET failed_at = ?, error = ? WHERE topic = ? AND id = ? AND ${PENDING}`,
  );
  const removeKept = db.prepare(`DELETE FROM ${table} WHERE delivered_at IS NOT NULL AND +${NOT_LAST}`);
  const prune = db.prepare(
    `DELETE FROM ${table} WHERE delivered_at IS NOT NULL AND delivered_at < ? AND +${NOT_LAST}`,
  );
  const backlog = db.prepare(
    `SELECT count(*) AS pending, min(created_at) AS oldest FROM ${table} WHERE ${PENDING}`,
  );
  const failed = db.prepare(`SELECT count(*) AS failed FROM ${table} WHERE failed_at IS NOT NULL`);

  /**
   * Runs `statements` once no transaction is open on the shared connection (a caller's, between its
   * `BEGIN` and `COMMIT`): the check and the statements run in one synchronous step, so a caller's
   * transaction cannot open in between.
   */
  const whenIdle = async <T>(statements: () => T): Promise<T> => {
    for (;;) {
      if (!db.inTransaction) return statements();
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
    }
  };
  let marks: QueuedMark[] = [];
  /** Every queued window's marks in one commit: a page holding rows of several topics is written once. */
  const commitMarks = () => {
    const batch = marks;
    marks = [];
    const now = Date.now();
    try {
      db.exec('BEGIN');
      for (const { topic, firstId, lastId, prune } of batch) {
        // Pending rows up to `readTo` are held: by id. Rows beyond (read on their own): by range.
        for (const id of readAhead.heldIds(topic, firstId, lastId)) {
          if (!prune || (remove.run(id) as { changes: number }).changes === 0) deliver.run(now, id);
        }
        const beyond = Math.max(firstId, readAhead.readTo + 1);
        if (beyond <= lastId) {
          if (prune) removeRange.run(topic, beyond, lastId);
          deliverRange.run(now, topic, beyond, lastId); // what is left: the last row, or all when kept
        }
      }
      if (batch.some((mark) => mark.prune)) removeKept.run(); // a row kept as the last one, now that a newer one exists
      db.exec('COMMIT');
    } catch (error) {
      if (db.inTransaction) db.exec('ROLLBACK');
      for (const mark of batch) mark.done(error);
      return;
    }
    for (const mark of batch) {
      readAhead.forget(mark.topic, mark.firstId, mark.lastId);
      mark.done();
    }
  };
  /** Queues a window's marks; those queued until the next turn of the event loop share one commit. */
  const markDelivered = (topic: string, firstId: number, lastId: number, prune: boolean) =>
    new Promise<void>((resolve, reject) => {
      if (marks.length === 0) setImmediate(() => void whenIdle(commitMarks));
      marks.push({ topic, firstId, lastId, prune, done: (error) => (error ? reject(error) : resolve()) });
    });

  return {
    wakesAtCommit: false,
    write(tx, row: OutboxRowInput) {
      if (!tx?.inTransaction) {
        throw new OutboxError(
          'not_in_transaction',
          'enqueue needs the connection of an open transaction (inside db.transaction(...) or after BEGIN), so the event commits or rolls back with the state change',
          { topic: row.topic },
        );
      }
      (tx === db ? insert : tx.prepare(insertSql)).run(row.topic, row.eventId, row.event, row.createdAt);
    },
    pendingTopics() {
      return whenIdle(() => readAhead.topics());
    },
    pending(topic, limit) {
      return whenIdle(() => readAhead.pending(topic, limit));
    },
    markDelivered,
    async markFailed(topic, id, reason) {
      await whenIdle(() => fail.run(Date.now(), reason, topic, id));
      readAhead.forget(topic, id, id);
    },
    prune(before) {
      return whenIdle(() => (prune.run(before) as { changes: number }).changes);
    },
    backlog() {
      return whenIdle((): StoreBacklog => {
        const row = backlog.get() as { pending: number; oldest: number | null };
        return {
          pending: row.pending,
          oldestPendingAt: row.oldest ?? undefined,
          failed: (failed.get() as { failed: number }).failed,
        };
      });
    },
    async watch(wakeUp) {
      wake = wakeUp;
      return async () => {
        if (wake === wakeUp) wake = undefined;
      };
    },
  };
}
