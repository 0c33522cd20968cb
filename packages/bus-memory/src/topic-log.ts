import type { AnyEnvelope, EventDelivery, StreamPosition } from '@repopulse/events-core';
import type { AppendResult, ReadResult } from '@repopulse/events-core/bus-kit';
import { comparePositions, nextPosition, ZERO_POSITION } from '@repopulse/events-core/wire';
import { RingBuffer } from './ring-buffer';

interface Entry {
  delivery: EventDelivery;
  storedAt: number;
}

/**
 * One topic's ordered, bounded history, its head position and the ids of its retained events:
 * the memory bus's storage. Storage grows with the events retained (see {@link RingBuffer}).
 */
export class TopicLog {
  private readonly entries: RingBuffer<Entry>;
  /** The retained events by id: an id is remembered exactly as long as its event is retained. */
  private readonly ids = new Map<string, EventDelivery>();
  private lastPosition: StreamPosition;
  /** The newest position that left the history (limit or TTL); `undefined` while none did. */
  private floor: StreamPosition | undefined;
  /** When the newest event was stored (clock of the bus); `-Infinity` before the first. */
  private lastStoredAt = Number.NEGATIVE_INFINITY;

  /**
   * @param floor - positions up to this one belong to the topic's forgotten past (a drop, or a
   *   history that expired and was forgotten): the log starts with it as head and floor, so every
   *   position it issues is greater and older resume points get a reset. `undefined`: a new topic.
   */
  constructor(
    historyLimit: number,
    private readonly historyTtlMs: number | undefined,
    floor: StreamPosition | undefined,
  ) {
    this.entries = new RingBuffer(historyLimit);
    this.lastPosition = floor ?? ZERO_POSITION;
    this.floor = floor;
  }

  /** The latest position issued (`0-0` before the first event of a new topic). */
  get head(): StreamPosition {
    return this.lastPosition;
  }

  /** Events retained now (after the last expiry check). */
  get size(): number {
    return this.entries.length;
  }

  /** True when the newest event is older than the age limit at `now`, i.e. nothing is retained. */
  expiredAt(now: number): boolean {
    return this.historyTtlMs !== undefined && this.lastStoredAt < now - this.historyTtlMs;
  }

  /**
   * Appends an event at the next position and returns its delivery; when an event with the same id
   * is still retained, stores nothing and returns that event's delivery instead.
   */
  append(event: AnyEnvelope, now: number): AppendResult {
    this.expire(now);
    const known = this.ids.get(event.id);
    if (known) return known;
    const position = nextPosition(this.lastPosition === ZERO_POSITION ? undefined : this.lastPosition, now);
    this.lastPosition = position;
    this.lastStoredAt = now;
    const delivery: EventDelivery = { position, event };
    this.ids.set(event.id, delivery);
    const evicted = this.entries.push({ delivery, storedAt: now });
    if (evicted) this.evicted(evicted);
    return position;
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

  /** Drops the events older than the age limit at `now`. */
  expire(now: number): void {
    if (this.historyTtlMs === undefined) return;
    const oldest = now - this.historyTtlMs;
    while (this.entries.length > 0 && (this.entries.at(0) as Entry).storedAt < oldest) {
      this.evicted(this.entries.shift() as Entry);
    }
  }

  private evicted(entry: Entry): void {
    this.floor = entry.delivery.position;
    this.ids.delete(entry.delivery.event.id);
  }
}
