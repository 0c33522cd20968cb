import type { BusErrorHandler, EventDelivery, Topic } from '../bus';
import type { AnyEnvelope } from '../envelope';
import type { StreamPosition } from '../position';
import type { ReadResult } from './replay-merge';

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
   */
  append(topic: Topic, event: AnyEnvelope, json: string): Promise<StreamPosition>;
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
}

/** How a transport tells its bus what happened; handed to the transport factory of {@link defineBus}. */
export interface TransportSink {
  /** A live event of `topic`. Call in position order per topic. */
  live(topic: Topic, delivery: EventDelivery): void;
  /** True when `topic` has subscriptions (a transport may skip decoding a message otherwise). */
  wants(topic: Topic): boolean;
  /** Live notifications of these topics (all when omitted) may be missing from now on. */
  interrupted(topics?: Iterable<Topic>): void;
  /** Live notifications flow again: every subscription of these topics (all when omitted) catches up. */
  recovered(topics?: Iterable<Topic>): void;
  /** Reports an error nobody awaits (the bus's guarded `onError`). */
  report: BusErrorHandler;
}
