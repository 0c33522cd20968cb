import {
  type AnyEnvelope,
  comparePositions,
  type EventDelivery,
  nextPosition,
  type StreamPosition,
  ZERO_POSITION,
} from '@repopulse/events-core';
import type { ReadResult } from '@repopulse/events-core/bus-kit';
import { RingBuffer } from './ring-buffer';

interface Entry {
  delivery: EventDelivery;
  storedAt: number;
}

/** One topic's ordered, bounded history and its head position: the memory bus's storage. */
export class TopicLog {
  private readonly entries: RingBuffer<Entry>;
  private lastPosition: StreamPosition = ZERO_POSITION;
  /** The newest position that left the history (limit or TTL); `undefined` while none did. */
  private floor: StreamPosition | undefined;

  constructor(
    historyLimit: number,
    private readonly historyTtlMs: number | undefined,
  ) {
    this.entries = new RingBuffer(historyLimit);
  }

  /** The latest position issued (`0-0` before the first event). */
  get head(): StreamPosition {
    return this.lastPosition;
  }

  /** Appends an event at the next position and returns its delivery. */
  append(event: AnyEnvelope, now: number): EventDelivery {
    this.expire(now);
    const position = nextPosition(this.lastPosition === ZERO_POSITION ? undefined : this.lastPosition, now);
    this.lastPosition = position;
    const delivery: EventDelivery = { position, event };
    const evicted = this.entries.push({ delivery, storedAt: now });
    if (evicted) this.floor = evicted.delivery.position;
    return delivery;
  }

  /**
   * The retained range around `cursor` and up to `limit` events after it (expired ones dropped
   * first). Events are served after a held cursor, after `0-0`, and after the floor (everything
   * after it is retained); after any other cursor none are (the decision resets it).
   */
  read(cursor: StreamPosition, limit: number, now: number): ReadResult {
    this.expire(now);
    const index = this.entries.firstIndexWhere((e) => comparePositions(e.delivery.position, cursor) >= 0);
    const holdsCursor = this.entries.at(index)?.delivery.position === cursor;
    const entries: EventDelivery[] = [];
    const fromStart = cursor === ZERO_POSITION || cursor === this.floor;
    const from = fromStart ? 0 : holdsCursor ? index + 1 : this.entries.length;
    for (let i = from; i < this.entries.length && entries.length < limit; i++) {
      entries.push((this.entries.at(i) as Entry).delivery);
    }
    return {
      head: this.lastPosition,
      oldest: this.entries.at(0)?.delivery.position,
      trimmed: this.floor !== undefined,
      floor: this.floor,
      holdsCursor,
      entries,
    };
  }

  private expire(now: number): void {
    if (this.historyTtlMs === undefined) return;
    const oldest = now - this.historyTtlMs;
    while (this.entries.length > 0 && (this.entries.at(0) as Entry).storedAt < oldest) {
      this.floor = (this.entries.shift() as Entry).delivery.position;
    }
  }
}
