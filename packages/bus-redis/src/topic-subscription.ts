import {
  type AnyEnvelope,
  type BusDelivery,
  comparePositions,
  type EventDelivery,
  isPosition,
  type ResetReason,
  type StreamPosition,
  ZERO_POSITION,
} from '@repopulse/events-core';
import { type CursorMode, decodeEnvelope, judgeCursor, type StreamSnapshot } from './stream-snapshot';

/** Entries read per XRANGE page: replay is never one unbounded read. */
export const REPLAY_PAGE_SIZE = 256;

/** What a {@link TopicSubscription} needs from its bus. */
export interface SubscriptionHost {
  /** Reads one page after `cursor` (`count` 0: only the stream's state). */
  read(cursor: StreamPosition, count: number): Promise<StreamSnapshot>;
  /** Hands one delivery to the handler, routing throws to `onError`. */
  deliver(delivery: BusDelivery): void;
  /** Reports a failed catch-up that will be retried. */
  replayFailed(error: unknown): void;
  /** False while the Pub/Sub connection is down or resubscribing: live messages may be missing. */
  connected(): boolean;
  /** Resolves when a failed catch-up may be retried (connection back, short back-off). */
  retryDelay(attempt: number): Promise<void>;
}

/**
 * One subscription's position in its topic and the merge of replay with live delivery.
 *
 * While catching up (first replay, or after a reconnect) live messages are buffered; the
 * stream is read in pages from the last delivered position; then the buffer is delivered,
 * skipping anything at or before the last delivered position, and live delivery resumes in
 * the same tick. Every delivery advances `last`, and nothing at or before `last` is ever
 * delivered again, so the handler sees each position once, in order.
 */
export class TopicSubscription {
  /** False once unsubscribed: nothing more is delivered. */
  active = true;
  /** Last delivered position (or the head taken at a reset / live-only start). */
  private last: StreamPosition | undefined;
  private catchingUp = true;
  private running = false;
  private again = false;
  private buffer: EventDelivery[] = [];

  constructor(
    private readonly host: SubscriptionHost,
    private readonly after: string | undefined,
  ) {}

  /** A live message from the channel. */
  onLive(delivery: EventDelivery): void {
    if (!this.active) return;
    if (this.catchingUp) this.buffer.push(delivery);
    else this.forward(delivery);
  }

  /** The connection dropped: buffer live messages until the next catch-up has run. */
  pause(): void {
    this.catchingUp = true;
  }

  /**
   * The first catch-up: replays from `after` (or takes the head for a live-only subscription).
   * Rejects when the store cannot be read; the caller then drops the subscription.
   */
  async start(): Promise<void> {
    this.running = true;
    try {
      await this.pass();
    } catch (error) {
      this.running = false;
      throw error;
    }
    this.running = false;
    if (this.again) this.catchUp();
    else this.goLiveIfConnected();
  }

  /** Catches up from the last delivered position (after a reconnect), then goes live. */
  catchUp(): void {
    if (!this.active) return;
    this.catchingUp = true;
    if (this.running) {
      this.again = true;
      return;
    }
    void this.loop();
  }

  private async loop(): Promise<void> {
    this.running = true;
    let attempt = 0;
    while (this.active) {
      this.again = false;
      try {
        await this.pass();
      } catch (error) {
        if (!this.active) break;
        this.host.replayFailed(error);
        await this.host.retryDelay(++attempt);
        this.again = true;
      }
      if (!this.again) {
        this.goLiveIfConnected();
        break;
      }
    }
    this.running = false;
  }

  /**
   * Goes live unless the Pub/Sub connection dropped meanwhile: then messages may have been
   * missed after what was read, so it keeps buffering; the resubscribe triggers another catch-up.
   */
  private goLiveIfConnected(): void {
    if (this.host.connected()) this.goLive();
  }

  private goLive(): void {
    const buffered = this.buffer;
    this.buffer = [];
    this.catchingUp = false;
    for (const delivery of buffered) this.forward(delivery);
  }

  /** One catch-up: reads pages until the stream's end, or delivers a reset. */
  private async pass(): Promise<void> {
    let cursor: StreamPosition;
    let mode: CursorMode;
    if (this.last !== undefined) {
      cursor = this.last;
      mode = 'resume';
    } else if (this.after === undefined) {
      const snapshot = await this.host.read(ZERO_POSITION, 0);
      this.last ??= snapshot.last;
      return;
    } else if (!isPosition(this.after)) {
      const snapshot = await this.host.read(ZERO_POSITION, 0);
      this.reset(snapshot.last, 'malformed');
      return;
    } else {
      cursor = this.after;
      mode = 'subscribe';
    }
    for (;;) {
      const snapshot = await this.host.read(cursor, REPLAY_PAGE_SIZE);
      if (!this.active) return;
      const reason = judgeCursor(cursor, snapshot, mode);
      if (reason) {
        this.reset(snapshot.last, reason);
        return;
      }
      this.last ??= cursor;
      for (const entry of snapshot.entries) {
        if (!this.active) return;
        let event: AnyEnvelope;
        try {
          event = decodeEnvelope(entry.json);
        } catch (error) {
          this.host.replayFailed(error);
          continue;
        }
        this.forward({ position: entry.position, event });
      }
      if (snapshot.entries.length < REPLAY_PAGE_SIZE) return;
      cursor = this.last;
      mode = 'resume';
    }
  }

  private reset(head: StreamPosition, reason: ResetReason): void {
    if (!this.active) return;
    this.last = head;
    this.host.deliver({ reset: true, position: head, reason });
  }

  private forward(delivery: EventDelivery): void {
    if (!this.active) return;
    if (this.last !== undefined && comparePositions(delivery.position, this.last) <= 0) return;
    this.last = delivery.position;
    this.host.deliver(delivery);
  }
}
