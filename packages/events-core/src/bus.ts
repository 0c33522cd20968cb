import type { EventType } from './catalog';
import type { AnyEnvelope, Envelope } from './envelope';
import { createErrorLog, errorLogKey } from './error-log';
import { BusError } from './errors';
import type { StreamPosition } from './wire/position';
import type { ResetDelivery } from './wire/reset';

export type { ResetDelivery, ResetReason } from './wire/reset';

import { hasControlChars } from './text';

/**
 * A topic names one totally ordered log: `repo:<id>` for one repository, `repos` for
 * list-level events. 1–256 characters, no CR, LF or NUL.
 */
export type Topic = string;

/** One event delivered to a subscriber, with its position in the topic. */
export interface EventDelivery<E extends Envelope = AnyEnvelope> {
  /** Always absent on an event delivery; lets `if (d.reset)` narrow the union. */
  reset?: undefined;
  /** The event's position in its topic. */
  position: StreamPosition;
  /** The validated envelope. */
  event: E;
}

/** What a subscription handler receives. */
export type BusDelivery<E extends Envelope = AnyEnvelope> = EventDelivery<E> | ResetDelivery;

/**
 * Receives deliveries in topic order. Handlers are called in order and not awaited; a throw
 * or a rejected promise goes to the bus's `onError` and never stops other subscribers.
 */
export type DeliveryHandler = (delivery: BusDelivery) => void | Promise<void>;

/** Options of {@link EventBus.subscribe}. */
export interface SubscribeOptions {
  /**
   * Replay retained events after this position, then go live, with no gap and no duplicate.
   * A point the bus cannot vouch for yields one {@link ResetDelivery} first. Omit for live only.
   * @example '1732842000000-0'
   */
  after?: StreamPosition | string;
  /** Aborting it unsubscribes. */
  signal?: AbortSignal;
}

/** A live subscription. */
export interface Subscription {
  /** Stops delivery and releases every listener and resource; idempotent. */
  unsubscribe(): Promise<void>;
}

/** What {@link EventBus.publish} resolves to once the event is stored. */
export interface PublishResult<E extends Envelope = AnyEnvelope> {
  /** The position the event was stored at. */
  position: StreamPosition;
  /** The validated, normalized envelope as stored and delivered. */
  event: E;
  /**
   * Set only when nothing was stored because `topic` still retains an event with the same `id`
   * (a replay of an earlier publish, e.g. by a relay retrying after a crash): `position` and
   * `event` are then those of the event already stored, which was not delivered again. The id
   * alone decides: a different envelope with a known id is not stored either. How long a bus
   * remembers ids is part of its retention: at least as long as the event is retained (see each
   * bus's README).
   * @example
   * ```ts
   * const first = await bus.publish('repo:42', event);
   * const again = await bus.publish('repo:42', event);
   * again.duplicate; // true
   * again.position === first.position; // true
   * ```
   */
  duplicate?: true;
}

/** Where an error reported to `onError` came from. */
export interface BusErrorContext {
  /** The topic involved, when there is one. */
  topic?: Topic;
  /** `handler`: a subscriber threw; `connection`: the store connection failed; `replay`: catching up failed. */
  source: 'handler' | 'connection' | 'replay';
}

/** Receives errors that have no caller to reject: handler throws, connection drops. */
export type BusErrorHandler = (error: unknown, context: BusErrorContext) => void;

/** Options every bus accepts. */
export interface BusOptions {
  /**
   * Events retained per topic for replay (Redis trims approximately, keeping at least this many).
   * @default 1000
   */
  historyLimit?: number;
  /**
   * Also drop retained events older than this many milliseconds. Unset: no age limit.
   * @example 3_600_000
   */
  historyTtlMs?: number;
  /**
   * Called with errors nobody awaits (a handler that throws, a lost connection).
   * @default logs with console.error
   */
  onError?: BusErrorHandler;
  /**
   * Largest accepted envelope in bytes of UTF-8 JSON.
   * @default 65536
   */
  maxEventBytes?: number;
}

/** Diagnostics of a bus: useful to prove that nothing leaks. */
export interface BusStats {
  /** Topics with at least one subscriber. */
  topics: number;
  /** Active subscriptions across all topics. */
  subscriptions: number;
}

/**
 * The one interface every bus implements (in-memory, Redis). Per topic, every subscriber sees
 * every event in order exactly once, or an explicit reset — never a silent gap.
 */
export interface EventBus {
  /**
   * Validates `event`, appends it to `topic`'s log and delivers it to live subscribers in order.
   * Resolves once stored; rejects with `EventValidationError` for bad input (nothing stored),
   * `BusClosedError` after close, `BusUnavailableError` when the store stayed unreachable.
   *
   * Idempotent by event id: while `topic` still retains an event with the same `id`, it stores
   * and delivers nothing and resolves with that event's position and stored envelope, marked
   * {@link PublishResult.duplicate} (also when both publishes race, in one process or several).
   */
  publish<K extends EventType>(topic: Topic, event: Envelope<K>): Promise<PublishResult<Envelope<K>>>;
  /**
   * Subscribes `handler` to `topic`: live only, or with `after`, replay then live. Resolves once
   * the subscription is active (and any replay delivered or queued in order).
   */
  subscribe(topic: Topic, handler: DeliveryHandler, options?: SubscribeOptions): Promise<Subscription>;
  /**
   * The position of the topic's latest event (`0-0` if none yet). A snapshot read together with
   * its head lets a page subscribe from exactly there.
   */
  head(topic: Topic): Promise<StreamPosition>;
  /**
   * Deletes `topic`'s whole history and the event ids it remembers. Every subscriber of the topic
   * (in any process sharing the store) gets one `history_lost` {@link ResetDelivery} and then
   * continues live. Positions issued afterwards are greater than every position issued before, and
   * a resume point from before the drop gets a reset, never a silent nothing. Resolves once the
   * history is gone; rejects like {@link EventBus.publish} (`BusClosedError`, `BusUnavailableError`,
   * `BusError` `invalid_topic`).
   * @example
   * ```ts
   * await db.deleteRepository(42);
   * await bus.dropTopic('repo:42'); // a new repository 42 never replays the old one's events
   * ```
   */
  dropTopic(topic: Topic): Promise<void>;
  /** Counts of active topics and subscriptions. */
  stats(): BusStats;
  /** Ends every subscription and releases all resources; later publishes reject with `bus_closed`. */
  close(): Promise<void>;
}

/** Default {@link BusOptions.historyLimit}. */
export const DEFAULT_HISTORY_LIMIT = 1000;

/** Throws `BusError('invalid_topic')` unless `topic` is 1–256 characters without CR, LF or NUL. */
export function assertTopic(topic: unknown): asserts topic is Topic {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 256 || hasControlChars(topic)) {
    throw new BusError(
      'invalid_topic',
      `topic must be 1-256 characters without CR, LF or NUL; got ${JSON.stringify(topic)}`,
    );
  }
}

const busErrorLog = createErrorLog();

/**
 * The default `onError`: logs to `console.error` with the context, rate-limited per (source, code):
 * the first error of a kind with its stack, repeats within a minute only counted.
 */
export const logBusError: BusErrorHandler = (error, context) => {
  busErrorLog(
    errorLogKey(context.source, error),
    `[repopulse] bus ${context.source} error${context.topic ? ` on ${context.topic}` : ''}:`,
    error,
  );
};
