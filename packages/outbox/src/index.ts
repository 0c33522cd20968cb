/**
 * A transactional outbox for RepoPulse: `enqueue(tx, topic, event)` writes an event in the caller's
 * database transaction; a relay publishes committed events to any `EventBus`, per topic in commit
 * order, exactly once by event id. Stores: `@repopulse/outbox/sqlite`, `@repopulse/outbox/postgres`.
 *
 * @packageDocumentation
 */
export {
  createOutbox,
  type Enqueued,
  type Outbox,
  type OutboxEntry,
  type OutboxErrorHandler,
  type OutboxOptions,
  type OutboxStats,
} from './outbox';
export { OutboxError, type OutboxErrorCode } from './outbox-error';
export type {
  OutboxBatchWriter,
  OutboxRowInput,
  OutboxStore,
  PendingRow,
  RelayLease,
  StoreBacklog,
} from './store';
export { DEFAULT_OUTBOX_TABLE } from './table-name';
