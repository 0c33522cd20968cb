import type { PendingRow } from '../store';
import type { SqliteStatement } from './sqlite-store';

/** Pending rows held in memory at most, over every topic; beyond them a topic is read on its own. */
export const READ_AHEAD_ROWS = 10_000;
/** Rows per read-ahead query. */
const CHUNK_ROWS = 1_000;

/** A pending row as the read-ahead query returns it. */
interface ScannedRow extends PendingRow {
  topic: string;
}

/** The statements the read-ahead runs (see `createSqliteStore`). */
export interface ReadAheadStatements {
  /** `id, topic, event` of pending rows with `id > ?`, by id, `LIMIT ?`. */
  after: SqliteStatement;
  /** `id, event` of pending rows of topic `?` with `id > ?`, by id, `LIMIT ?`. */
  topicAfter: SqliteStatement;
  /** Distinct topics of pending rows with `id > ?`. */
  topicsAfter: SqliteStatement;
  /** `max(id) AS id` of the table. */
  newest: SqliteStatement;
}

/**
 * The relay's reads on a table without a per-topic index: the pending rows are read once, in id
 * (= commit) order, and kept per topic until they are marked. An insert then writes the table's last
 * page and nothing else. Rows committed later always have larger ids (one writer at a time, ids never
 * reused), so reading on from the largest id read misses none. A row another process delivered
 * meanwhile is published again, and the bus, holding its id, stores nothing twice.
 */
export class ReadAhead {
  /** Largest id read. */
  private cursor = 0;
  private readonly queues = new Map<string, ScannedRow[]>();
  private held = 0;

  /**
   * @param found - called with a topic that has more pending rows than a drain of it knows of: one
   *   that had none held, or one given a short read while more wait beyond the read-ahead.
   */
  constructor(
    private readonly statements: ReadAheadStatements,
    private readonly found: (topic: string) => void,
  ) {}

  /** Up to `limit` pending rows of `topic`, smallest id first. */
  pending(topic: string, limit: number): PendingRow[] {
    const end = this.readOn(() => (this.queues.get(topic)?.length ?? 0) >= limit, topic);
    const queue = this.queues.get(topic);
    if (queue?.length) {
      if (queue.length >= limit) return queue.slice(0, limit);
      // A short read that is not the whole backlog: its drain must read again.
      if (end === 'full') this.found(topic);
      return queue.slice();
    }
    // Nothing of it held while the read-ahead is full: its rows beyond, by a scan of those.
    if (end === 'full') return this.statements.topicAfter.all(topic, this.cursor, limit) as PendingRow[];
    return [];
  }

  /** Topics with pending rows. */
  topics(): string[] {
    const end = this.readOn(() => false);
    const topics = [...this.queues.keys()];
    if (end === 'full') {
      for (const row of this.statements.topicsAfter.all(this.cursor) as { topic: string }[]) {
        if (!this.queues.has(row.topic)) topics.push(row.topic);
      }
    }
    return topics;
  }

  /** The largest id read: every pending row up to it is held (until it is marked and forgotten). */
  get readTo(): number {
    return this.cursor;
  }

  /** The ids held for `topic` from `firstId` to `lastId`. */
  heldIds(topic: string, firstId: number, lastId: number): number[] {
    const ids: number[] = [];
    for (const row of this.queues.get(topic) ?? []) {
      if (row.id > lastId) break;
      if (row.id >= firstId) ids.push(row.id);
    }
    return ids;
  }

  /** Forgets the rows of `topic` from `firstId` to `lastId`, once their marks committed. */
  forget(topic: string, firstId: number, lastId: number): void {
    const queue = this.queues.get(topic);
    if (!queue) return;
    const kept = queue.filter((row) => row.id < firstId || row.id > lastId);
    this.held -= queue.length - kept.length;
    if (kept.length === 0) this.queues.delete(topic);
    else this.queues.set(topic, kept);
  }

  /**
   * Reads on from the cursor until `enough()`, the end of the table (`'end'`) or the read-ahead is
   * full (`'full'`). Calls `found` for each other topic that had nothing held before.
   */
  private readOn(enough: () => boolean, reading?: string): 'end' | 'full' | 'enough' {
    const newest = (this.statements.newest.get() as { id: number | null }).id ?? 0;
    if (newest < this.cursor) this.reset(); // the table was emptied and refilled behind the outbox
    const woken = new Set<string>();
    try {
      for (;;) {
        if (enough()) return 'enough';
        if (this.held >= READ_AHEAD_ROWS) return 'full';
        const rows = this.statements.after.all(this.cursor, CHUNK_ROWS) as ScannedRow[];
        for (const row of rows) {
          let queue = this.queues.get(row.topic);
          if (!queue) {
            queue = [];
            this.queues.set(row.topic, queue);
            if (row.topic !== reading) woken.add(row.topic);
          }
          queue.push(row);
        }
        this.held += rows.length;
        if (rows.length > 0) this.cursor = (rows[rows.length - 1] as ScannedRow).id;
        if (rows.length < CHUNK_ROWS) return 'end';
      }
    } finally {
      for (const topic of woken) this.found(topic);
    }
  }

  private reset(): void {
    this.cursor = 0;
    this.queues.clear();
    this.held = 0;
  }
}
