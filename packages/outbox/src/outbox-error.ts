import { RepoPulseError, type RepoPulseErrorOptions } from '@repopulse/events-core';

/**
 * Why the outbox refused or reported something:
 * - `not_in_transaction`: `enqueue` was given a connection with no open transaction (SQLite), so
 *   the event could not be written together with the state change.
 * - `invalid_entries`: `enqueueMany` was given something other than an array of `{ topic, event }`;
 *   nothing was written.
 * - `store_failed`: the database refused a relay read or write (reported to `onError`; retried).
 * - `publish_failed`: the bus did not take an event for now (unreachable, closed); retried with backoff.
 * - `event_refused`: the bus refused an event for good (e.g. larger than its `maxEventBytes`); the row
 *   is kept, marked failed, and the topic goes on with its next event.
 * - `order_violated`: a bus stored an event after one that was committed later (only possible when a
 *   publish of a window failed while a later one of the same window succeeded); reported, never hidden.
 * - `outbox_closed`: `drained()` was called on a closed outbox.
 * - `drain_timeout`: `drained()` waited longer than its timeout.
 */
export type OutboxErrorCode =
  | 'not_in_transaction'
  | 'invalid_entries'
  | 'store_failed'
  | 'publish_failed'
  | 'event_refused'
  | 'order_violated'
  | 'outbox_closed'
  | 'drain_timeout';

/**
 * The one error class of `@repopulse/outbox`, with a typed {@link OutboxError.code}. Errors thrown
 * at `enqueue` reach the caller (so its transaction can roll back); errors of the relay, which has
 * no caller, go to the outbox's `onError` with the topic and, for a row, its id.
 *
 * @example
 * ```ts
 * const outbox = createOutbox({
 *   store, bus,
 *   onError: (error) => { if (error instanceof OutboxError && error.code === 'event_refused') alert(error); },
 * });
 * ```
 */
export class OutboxError extends RepoPulseError<OutboxErrorCode> {
  /** The topic concerned, when there is one. */
  readonly topic: string | undefined;
  /** The outbox row concerned (its id in the table), when there is one. */
  readonly rowId: number | undefined;

  constructor(
    code: OutboxErrorCode,
    message: string,
    details: { topic?: string; rowId?: number } & RepoPulseErrorOptions = {},
  ) {
    super(code, message, { cause: details.cause });
    this.topic = details.topic;
    this.rowId = details.rowId;
  }
}
