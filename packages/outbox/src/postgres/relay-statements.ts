import type { PendingRow } from '../store';
import { CoalescedRuns } from './coalesced-runs';
import type { PgPool, PgResult } from './postgres-types';

/**
 * The shortest time between two starts of the relay's statements (and of the `NOTIFY`s another
 * process sends): under a stream of commits, reads and marks are batched at this pace; a commit
 * after a quiet spell is read at once.
 */
export const RELAY_STATEMENT_INTERVAL_MS = 5;

/** A read of one topic's pending rows, waiting for the next statement. */
interface Read {
  topic: string;
  limit: number;
  resolve: (rows: PendingRow[]) => void;
  reject: (error: unknown) => void;
}

/** Delivered rows to mark: one topic's ids from `first` to `last`, deleted or stamped. */
interface Mark {
  topic: string;
  first: number;
  last: number;
  prune: boolean;
}

/** The relay side of the Postgres store, as {@link relayStatements} makes it. */
export interface RelayStatements {
  /** Up to `limit` pending rows of `topic`, smallest id first (read in the next statement). */
  pending(topic: string, limit: number): Promise<PendingRow[]>;
  /** Marks the range delivered in the next statement (resolves at once: the mark is queued). */
  markDelivered(topic: string, first: number, last: number, prune: boolean): void;
  /** Resolves once every mark queued before the call is written; rejects if that failed. */
  flush(): Promise<void>;
}

/**
 * Batches the relay's reads and marks: one statement marks every delivered range queued since the
 * last one (deleting the rows, or stamping `delivered_at`) and reads every topic asked for, at most
 * one statement in flight and one start per {@link RELAY_STATEMENT_INTERVAL_MS}. A topic's read
 * skips the ids its queued marks cover (the statement's snapshot still shows them). A mark waits
 * for the next read, or for the interval when none comes; if its statement fails it is queued
 * again, and a relay that dies before it is written leaves rows the next relay publishes again
 * (the bus, holding their ids, stores nothing twice).
 */
export function relayStatements(pool: PgPool, table: string, pending: string, name: string): RelayStatements {
  const sql = `
    WITH marks AS (
      SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bool[]) AS m(topic, first_id, last_id, prune)
    ), removed AS (
      DELETE FROM ${table} t USING marks m
      WHERE m.prune AND t.topic = m.topic AND t.id BETWEEN m.first_id AND m.last_id AND ${pending}
    ), stamped AS (
      UPDATE ${table} t SET delivered_at = $8 FROM marks m
      WHERE NOT m.prune AND t.topic = m.topic AND t.id BETWEEN m.first_id AND m.last_id AND ${pending}
    )
    SELECT r.n, p.id, p.event
    FROM unnest($5::text[], $6::bigint[], $7::int[]) WITH ORDINALITY AS r(topic, after_id, max_rows, n)
    CROSS JOIN LATERAL (
      SELECT id, event FROM ${table}
      WHERE topic = r.topic AND id > r.after_id AND ${pending} ORDER BY id LIMIT r.max_rows
    ) AS p
    ORDER BY r.n, p.id`;
  let reads: Read[] = [];
  let marks: Mark[] = [];
  /** Per topic, the last id of its queued (or in-flight) marks: its reads start after it. */
  const markedUpTo = new Map<string, number>();
  let lastFailure: unknown;

  const run = async () => {
    const batch = reads;
    const marking = marks;
    reads = [];
    marks = [];
    if (batch.length === 0 && marking.length === 0) return;
    const values = [
      marking.map((m) => m.topic),
      marking.map((m) => m.first),
      marking.map((m) => m.last),
      marking.map((m) => m.prune),
      batch.map((r) => r.topic),
      batch.map((r) => markedUpTo.get(r.topic) ?? 0),
      batch.map((r) => r.limit),
      Date.now(),
    ];
    let result: PgResult;
    try {
      result = await (pool as unknown as NamedQueryable).query({ name, text: sql, values });
    } catch (error) {
      // Written by the next statement: the relay's next read (it retries with backoff) or flush.
      marks = [...marking, ...marks];
      lastFailure = error;
      for (const read of batch) read.reject(error);
      throw error;
    }
    lastFailure = undefined;
    for (const mark of marking) {
      if (markedUpTo.get(mark.topic) === mark.last && !marks.some((m) => m.topic === mark.topic)) {
        markedUpTo.delete(mark.topic);
      }
    }
    const rows: PendingRow[][] = batch.map(() => []);
    for (const row of result.rows) {
      rows[Number(row.n) - 1]?.push({ id: Number(row.id), event: row.event as string });
    }
    for (const [i, read] of batch.entries()) read.resolve(rows[i] as PendingRow[]);
  };
  const statements = new CoalescedRuns(RELAY_STATEMENT_INTERVAL_MS, run);

  return {
    pending(topic, limit) {
      return new Promise((resolve, reject) => {
        reads.push({ topic, limit, resolve, reject });
        statements.request();
      });
    },
    markDelivered(topic, first, last, prune) {
      marks.push({ topic, first, last, prune });
      markedUpTo.set(topic, Math.max(last, markedUpTo.get(topic) ?? 0));
      statements.request();
    },
    async flush() {
      if (marks.length > 0) statements.request();
      await statements.idle();
      if (marks.length > 0) throw lastFailure ?? new Error('the outbox marks were not written');
    },
  };
}

/** pg's `query` with a statement name (prepared once per connection). */
interface NamedQueryable {
  query(config: { name: string; text: string; values: unknown[] }): Promise<PgResult>;
}
