import { type EventDelivery, encodeSseFrameFromJson } from '@repopulse/events-core';

/** One event serialized once, shared by every connection of its topic. */
export interface SerializedEvent {
  /** The envelope id (guards against a position reused by another store). */
  readonly id: string;
  /** `JSON.stringify(envelope)`. */
  readonly json: string;
  /** The complete SSE frame as bytes. */
  readonly frame: Buffer;
}

/** Default number of recent events kept serialized per topic. */
export const FRAME_CACHE_SIZE = 256;

/**
 * Recent events of one topic, serialized once: the first connection a delivery reaches pays for
 * `JSON.stringify` and UTF-8 encoding, every other connection (SSE or long-poll) reuses the
 * bytes. Keyed by position, bounded, oldest evicted first.
 */
export class FrameCache {
  private readonly entries = new Map<string, SerializedEvent>();

  constructor(private readonly capacity: number = FRAME_CACHE_SIZE) {}

  /** Number of events held. */
  get size(): number {
    return this.entries.size;
  }

  /** The serialized form of `delivery`, made at most once while it stays cached. */
  get(delivery: EventDelivery): SerializedEvent {
    const { position, event } = delivery;
    const hit = this.entries.get(position);
    if (hit && hit.id === event.id) return hit;
    const json = JSON.stringify(event);
    const entry: SerializedEvent = {
      id: event.id,
      json,
      frame: Buffer.from(encodeSseFrameFromJson(position, event.type, json), 'utf8'),
    };
    if (hit) this.entries.delete(position);
    this.entries.set(position, entry);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return entry;
  }
}
