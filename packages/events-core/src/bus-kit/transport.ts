import type { BusErrorHandler, EventDelivery, Topic } from '../bus';
import type { AnyEnvelope } from '../envelope';
import type { StreamPosition } from '../wire/position';
import type { ReadResult } from './replay-merge';

/**
 * What {@link BusTransport.append} resolves with: the position of the newly stored event, or, when
 * the topic still retained an event with the same id, that event (its position and its envelope as
 * stored), for which nothing was stored or notified.
 */
export type AppendResult = StreamPosition | EventDelivery;

/**
 * The storage and transport primitives a bus provides; {@link defineBus} turns them into an
 * `EventBus`. Topics are already checked and events already validated when they get here.
 */
export interface BusTransport {
  /**
   * Stores `event` at the topic's next position and notifies live listeners (through
   * {@link TransportSink.live}, here or in any process sharing the store). Resolves with the position
   * once stored; rejects (e.g. `BusUnavailableError`) when it was not, or may not have been, stored.
   * `json` is the envelope's JSON text, for a store that keeps text (the bus already made it).
   *
   * Idempotent by event id: when the topic still retains an event with `event.id`, it stores and
   * notifies nothing and resolves with that event's {@link EventDelivery} (its position and the
   * envelope as stored). The check is atomic with the append in the store (a map updated in the
   * same synchronous step in one process, the same script on Redis), so two appends of one id
   * racing, in one process or several, store it once. Ids are remembered at least as long as their
   * event is retained (count and age limits, {@link drop}); the bus's docs say exactly how long.
   */
  append(topic: Topic, event: AnyEnvelope, json: string): Promise<AppendResult>;
  /**
   * Deletes the topic's whole history and remembered ids. Positions issued afterwards must be
   * greater than every position issued before, and the topic's {@link head} must move past every
   * position issued before (a store typically issues one position for the drop itself), so a
   * resume point from before the drop is a reset. Notifies {@link TransportSink.dropped} with that
   * head, in order with the topic's live events, here or in any process sharing the store.
   */
  drop(topic: Topic): Promise<void>;
  /**
   * Reads up to `limit` retained events after `cursor` together with the retained range around it,
   * in one consistent view. `limit` 0 reads only the range.
   */
  read(topic: Topic, cursor: StreamPosition, limit: number): Promise<ReadResult>;
  /** The topic's last issued position (`0-0` when none). */
  head(topic: Topic): Promise<StreamPosition>;
  /**
   * Starts live notification of `topic`; resolves once every event appended from then on reaches
   * {@link TransportSink.live}. Called once per subscription, balanced by one {@link unlisten}
   * (which may come before this settles), except after {@link close} began.
   */
  listen(topic: Topic): Promise<void>;
  /** Drops one {@link listen} of `topic`. */
  unlisten(topic: Topic): Promise<void>;
  /**
   * False while live notifications of `topic` may be missing (connection down, resubscribing):
   * the bus then keeps buffering until {@link TransportSink.recovered}.
   */
  isLive(topic: Topic): boolean;
  /** Resolves when a failed read may be retried (e.g. the store is reachable again). */
  whenReachable?(): Promise<void>;
  /** Releases every connection and resource. */
  close(): Promise<void>;
  /**
   * The store's name as OpenTelemetry's `messaging.system` on the bus's spans and metrics
   * (`memory`, `redis`, `postgresql`).
   * @default 'repopulse'
   */
  readonly system?: string;
}

/** How a transport tells its bus what happened; handed to the transport factory of {@link defineBus}. */
export interface TransportSink {
  /** A live event of `topic`. Call in position order per topic. */
  live(topic: Topic, delivery: EventDelivery): void;
  /** True when `topic` has subscriptions (a transport may skip decoding a message otherwise). */
  wants(topic: Topic): boolean;
  /**
   * `topic` was dropped ({@link BusTransport.drop}, here or in another process); `head` is its head
   * afterwards (later events follow it). Every subscription of the topic gets one `history_lost`
   * reset at `head`, then continues live. Call in order with {@link live} for the topic.
   */
  dropped(topic: Topic, head: StreamPosition): void;
  /** Live notifications of these topics (all when omitted) may be missing from now on. */
  interrupted(topics?: Iterable<Topic>): void;
  /** Live notifications flow again: every subscription of these topics (all when omitted) catches up. */
  recovered(topics?: Iterable<Topic>): void;
  /** Reports an error nobody awaits (the bus's guarded `onError`). */
  report: BusErrorHandler;
}
