import type { EventDelivery } from '@repopulse/events-core';
import { comparePositions, encodeSseFrameFromJson } from '@repopulse/events-core/wire';

/** One event serialized once, shared by every connection of its topic. */
export interface SerializedEvent {
  /** The event's position in its topic. */
  readonly position: string;
  /** `JSON.stringify(envelope)`. */
  readonly json: string;
  /** The complete SSE frame as bytes. */
  readonly frame: Buffer;
}

/** Serializes a delivery once: JSON, then the SSE frame bytes. */
export function serializeEvent(delivery: EventDelivery): SerializedEvent {
  const json = JSON.stringify(delivery.event);
  return {
    position: delivery.position,
    json,
    frame: Buffer.from(encodeSseFrameFromJson(delivery.position, delivery.event.type, json), 'utf8'),
  };
}

/** Bounds of a {@link FrameWindow}. */
export interface WindowLimits {
  /** Most events held. */
  events: number;
  /** Most frame bytes held. */
  bytes: number;
}

/**
 * The recent events of one topic, serialized, contiguous: it holds every event after `base` up to
 * `head`, so a connection resuming from `base` or from any position it holds is served from here
 * with no gap. Bounded by count and by bytes, the oldest dropped first (moving `base` up).
 */
export class FrameWindow {
  private entries: SerializedEvent[] = [];
  private start = 0;
  private totalBytes = 0;
  /** Every event after this position is held (up to {@link head}). */
  base: string;
  /** The position of the newest event held, or `base` when empty. */
  head: string;

  constructor(
    from: string,
    private readonly limits: WindowLimits,
  ) {
    this.base = from;
    this.head = from;
  }

  /** Events held. */
  get size(): number {
    return this.entries.length - this.start;
  }

  /** Frame bytes held. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** Appends the next event (its position follows {@link head}). */
  push(entry: SerializedEvent): void {
    this.entries.push(entry);
    this.totalBytes += entry.frame.length;
    this.head = entry.position;
    this.trim();
  }

  /** Forgets everything: the window restarts empty after `position` (a reset). */
  restart(position: string): void {
    this.entries = [];
    this.start = 0;
    this.totalBytes = 0;
    this.base = position;
    this.head = position;
  }

  /**
   * Extends the window backwards: `older` are the events after `from`, contiguous, ending at or after
   * {@link base}. Keeps what fits within the limits, newest first.
   */
  prepend(from: string, older: readonly SerializedEvent[]): void {
    const base = this.base;
    let end = older.length;
    while (end > 0 && comparePositions((older[end - 1] as SerializedEvent).position, base) > 0) end--;
    if (end === 0 || (older[end - 1] as SerializedEvent).position !== base) return; // does not connect
    let first = end;
    let bytes = this.totalBytes;
    let count = this.size;
    while (first > 0) {
      const entry = older[first - 1] as SerializedEvent;
      if (count + 1 > this.limits.events || bytes + entry.frame.length > this.limits.bytes) break;
      bytes += entry.frame.length;
      count++;
      first--;
    }
    if (first === end) return;
    this.entries = [...older.slice(first, end), ...this.entries.slice(this.start)];
    this.start = 0;
    this.totalBytes = bytes;
    this.base = first === 0 ? from : (older[first - 1] as SerializedEvent).position;
  }

  /**
   * The events after `position` when the window can vouch for it (it is `base`, `head` or an
   * event held), else `undefined`.
   */
  after(position: string): SerializedEvent[] | undefined {
    if (position === this.head) return [];
    if (position === this.base) return this.entries.slice(this.start);
    const index = this.indexOf(position);
    return index === -1 ? undefined : this.entries.slice(index + 1);
  }

  /** True when {@link after} would answer for `position`. */
  covers(position: string): boolean {
    return position === this.head || position === this.base || this.indexOf(position) !== -1;
  }

  private indexOf(position: string): number {
    if (this.size === 0) return -1;
    try {
      if (comparePositions(position, this.base) <= 0) return -1;
    } catch {
      return -1; // malformed
    }
    return indexOfPosition(this.entries, position, this.start);
  }

  private trim(): void {
    const { events, bytes } = this.limits;
    while (this.size > 0 && (this.size > events || this.totalBytes > bytes)) {
      const oldest = this.entries[this.start] as SerializedEvent;
      this.entries[this.start] = undefined as unknown as SerializedEvent;
      this.start++;
      this.totalBytes -= oldest.frame.length;
      this.base = oldest.position;
    }
    if (this.start > 1024 && this.start * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.start);
      this.start = 0;
    }
  }
}

/** Index of the event at `position` in `entries[from…]` (ordered by position), or -1. */
export function indexOfPosition(entries: readonly SerializedEvent[], position: string, from: number): number {
  let low = from;
  let high = entries.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const order = comparePositions((entries[mid] as SerializedEvent).position, position);
    if (order === 0) return mid;
    if (order < 0) low = mid + 1;
    else high = mid - 1;
  }
  return -1;
}
