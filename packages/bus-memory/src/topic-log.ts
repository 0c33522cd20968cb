import {
  type AnyEnvelope,
  comparePositions,
  type EventDelivery,
  nextPosition,
  parsePosition,
  type ResetReason,
  type StreamPosition,
  ZERO_POSITION,
} from '@repopulse/events-core';
import { RingBuffer } from './ring-buffer';

interface Entry {
  delivery: EventDelivery;
  storedAt: number;
}

/** What a subscriber with a resume point gets: events to replay, or a reset. */
export type ReplayPlan = { replay: EventDelivery[] } | { reset: ResetReason };

/** One topic's ordered, bounded history and its head position. */
export class TopicLog {
  private readonly entries: RingBuffer<Entry>;
  private lastPosition: StreamPosition = ZERO_POSITION;
  /** True once any event of this topic left the history (limit or TTL). */
  private trimmed = false;

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

  /** Number of retained events. */
  get size(): number {
    return this.entries.length;
  }

  /** Appends an event at the next position and returns its delivery. */
  append(event: AnyEnvelope, now: number): EventDelivery {
    this.expire(now);
    const position = nextPosition(this.lastPosition === ZERO_POSITION ? undefined : this.lastPosition, now);
    this.lastPosition = position;
    const delivery: EventDelivery = { position, event };
    if (this.entries.push({ delivery, storedAt: now })) this.trimmed = true;
    return delivery;
  }

  /** Drops events older than the TTL. */
  expire(now: number): void {
    if (this.historyTtlMs === undefined) return;
    const oldest = now - this.historyTtlMs;
    while (this.entries.length > 0 && (this.entries.at(0) as Entry).storedAt < oldest) {
      this.entries.shift();
      this.trimmed = true;
    }
  }

  /**
   * Decides what a subscriber resuming after `after` gets. Only positions this log issued and
   * still retains (or its head, or `0-0` while nothing was trimmed) are replayable.
   */
  plan(after: string, now: number): ReplayPlan {
    this.expire(now);
    if (!parsePosition(after)) return { reset: 'malformed' };
    if (after === this.lastPosition) return { replay: [] };
    if (after === ZERO_POSITION) return this.trimmed ? { reset: 'expired' } : { replay: this.since(0) };
    if (comparePositions(after, this.lastPosition) > 0) return { reset: 'unknown_position' };
    const index = this.entries.firstIndexWhere((e) => comparePositions(e.delivery.position, after) >= 0);
    const found = this.entries.at(index);
    if (found && found.delivery.position === after) return { replay: this.since(index + 1) };
    // Not retained: older than the window (evicted) or never issued by this log.
    return { reset: index === 0 && this.trimmed ? 'expired' : 'unknown_position' };
  }

  private since(index: number): EventDelivery[] {
    const out: EventDelivery[] = [];
    for (let i = index; i < this.entries.length; i++) out.push((this.entries.at(i) as Entry).delivery);
    return out;
  }
}
