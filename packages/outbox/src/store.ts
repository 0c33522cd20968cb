/** One event to write, as {@link OutboxStore.write} receives it: validated and serialized. */
export interface OutboxRowInput {
  /** The topic the event goes to. */
  topic: string;
  /** The event's id (the envelope's `id`). */
  eventId: string;
  /** The envelope as JSON text, exactly as the relay will publish it. */
  event: string;
  /** When it was enqueued, in ms since epoch: the age in `stats()` counts from here. */
  createdAt: number;
}

/** One undelivered row, as {@link OutboxStore.pending} returns it. */
export interface PendingRow {
  /** The row's id: per topic, a larger id was committed later; never reused. */
  id: number;
  /** The envelope's JSON text, as written. */
  event: string;
}

/** What {@link OutboxStore.backlog} counts. */
export interface StoreBacklog {
  /** Rows committed and not yet delivered (failed ones excluded). */
  pending: number;
  /** Rows the bus refused for good, kept in the table. */
  failed: number;
  /** `createdAt` of the oldest pending row; `undefined` when none is pending. */
  oldestPendingAt: number | undefined;
}

/**
 * A lease on relaying, given by {@link OutboxStore.lead}: while it is held no other relay on the
 * same table publishes.
 */
export interface RelayLease {
  /** False once the lease was lost (its connection died, it expired); the relay stops publishing. */
  readonly held: boolean;
  /** Gives the lease up; idempotent. */
  release(): Promise<void>;
}

/**
 * How the outbox reaches one database: the write inside the caller's transaction, and the relay's
 * reads and marks. `@repopulse/outbox/sqlite` and `@repopulse/outbox/postgres` provide one each; write
 * your own for another driver (or wrap one of them, replacing only `write`).
 *
 * Its one promise: **per topic, row ids grow in commit order.** A row whose transaction commits after
 * another's has a larger id, so the relay, which reads rows by id, publishes them in commit order.
 *
 * @typeParam Tx - what `enqueue` is given: the handle of the caller's open transaction.
 * @typeParam Written - `void` for a synchronous driver (better-sqlite3), `Promise<void>` for an
 *   asynchronous one; `enqueue` returns the envelope, or a promise of it, accordingly.
 * @example
 * ```ts
 * const store: OutboxStore<MyTx, Promise<void>> = {
 *   ...(await createPostgresStore({ pool })),
 *   write: (tx, row) => tx.insertOutboxRow(row),
 * };
 * ```
 */
export interface OutboxStore<Tx = never, Written extends void | Promise<void> = void | Promise<void>> {
  /**
   * Writes one row inside the transaction `tx` is in, so it commits or rolls back with it. Must keep
   * the store's promise (ids in commit order per topic). Throws (or rejects) when it cannot: the
   * caller's transaction then rolls back.
   */
  write(tx: Tx, row: OutboxRowInput): Written;
  /** True when `write` makes the store's {@link OutboxStore.watch} fire at commit (no local wake-up needed). */
  readonly wakesAtCommit: boolean;
  /** Topics with at least one pending row. */
  pendingTopics(): Promise<string[]>;
  /** Up to `limit` pending rows of `topic`, smallest id first. */
  pending(topic: string, limit: number): Promise<PendingRow[]>;
  /**
   * Marks delivered the pending rows of `topic` with ids from `firstId` to `lastId` (all of them
   * were published), deleting them when `prune` is true.
   */
  markDelivered(topic: string, firstId: number, lastId: number, prune: boolean): Promise<void>;
  /** Marks one row failed for good with the reason; it stays in the table and is never relayed. */
  markFailed(topic: string, id: number, reason: string): Promise<void>;
  /** Deletes delivered rows delivered before `before` (ms since epoch); resolves to how many. */
  prune(before: number): Promise<number>;
  /** Counts the pending and failed rows and finds the oldest pending one. */
  backlog(): Promise<StoreBacklog>;
  /**
   * Waits until this process may relay, then holds that right until it is released or lost. A store
   * without it lets every relay publish (one process per database).
   *
   * @param lost - called once if the lease is lost while held.
   * @param signal - aborted when the outbox closes while waiting: stop waiting and reject.
   */
  lead?(lost: () => void, signal: AbortSignal): Promise<RelayLease>;
  /**
   * Calls `wake(topic)` when another connection commits rows (Postgres `LISTEN`). Resolves to a
   * function that stops watching.
   */
  watch?(wake: (topic?: string) => void): Promise<() => Promise<void>>;
  /**
   * True while the caller's connection has an open transaction, so the relay must not read through
   * it yet (SQLite, where the relay shares the caller's connection).
   */
  busy?(): boolean;
}

/**
 * What a store may add to write `enqueueMany`'s rows at once (the Postgres store does, in one
 * statement). `createOutbox` uses it when the store object has it; without it `enqueueMany` calls
 * `write` once per row. A store wrapped by spreading (`{ ...store, write }`) does not carry the
 * Postgres store's `writeMany` along (it is not enumerable), so its `write` stays the only writer.
 *
 * @example
 * ```ts
 * const store: OutboxStore<MyTx, Promise<void>> & OutboxBatchWriter<MyTx, Promise<void>> = {
 *   ...(await createPostgresStore({ pool })),
 *   write: (tx, row) => tx.insertOutboxRows([row]),
 *   writeMany: (tx, rows) => tx.insertOutboxRows(rows),
 * };
 * ```
 */
export interface OutboxBatchWriter<Tx = never, Written extends void | Promise<void> = void | Promise<void>> {
  /**
   * Writes `rows` inside the transaction `tx` is in, as `write` would one after the other (per topic
   * in array order, and the store's promise kept across transactions), in fewer round trips.
   */
  writeMany(tx: Tx, rows: readonly OutboxRowInput[]): Written;
}
