import type { BusDelivery, EventDelivery, ResetDelivery, ResetReason } from '../bus';
import { isAfter, isPosition, type StreamPosition } from '../wire/position';
import { type CursorOrigin, decideReplay, type RetainedRange } from './reset-decision';

/** Events read per page while replaying: a replay is never one unbounded read. */
export const REPLAY_PAGE_SIZE = 256;

/** One page read from a topic's store: the retained range around the cursor and the events after it. */
export interface ReadResult extends RetainedRange {
  /** Up to `limit` retained events after the cursor, oldest first. */
  entries: EventDelivery[];
}

/** What a {@link ReplayMerge} needs from its bus. */
export interface ReplayMergeHost {
  /** Reads up to `limit` events after `cursor` (a well-formed position) with the retained range. */
  read(cursor: StreamPosition, limit: number): Promise<ReadResult>;
  /** The topic's head position. */
  head(): Promise<StreamPosition>;
  /** Hands one delivery to the subscriber (isolated: never throws). */
  deliver(delivery: BusDelivery): void;
  /** Reports a failed catch-up that will be retried. */
  replayFailed(error: unknown): void;
  /** False while live notifications of the topic may be missing (connection down, resubscribing). */
  isLive(): boolean;
  /** Resolves when a failed catch-up may be retried. */
  retryDelay(attempt: number): Promise<void>;
}

/**
 * One subscription's position in its topic: the merge of replay with live delivery by position.
 *
 * While catching up (the first replay, or after {@link ReplayMerge.pause}) live events are
 * buffered; the store is read in pages from the last delivered position; then the buffer is
 * delivered, skipping anything at or before the last delivered position, and live delivery
 * resumes in the same tick. Every delivery advances the position, and nothing at or before it is
 * ever delivered again, so the subscriber sees each position once, in order — or a reset, decided
 * by {@link decideReplay}.
 *
 * @example
 * ```ts
 * const merge = new ReplayMerge(host, '1700000000000-0');
 * await merge.start();            // replays, then goes live
 * transportMessage((d) => merge.onLive(d));
 * ```
 */
export class ReplayMerge {
  /** False once unsubscribed: nothing more is delivered. */
  active = true;
  /** Last delivered position (or the head taken at a reset / live-only start). */
  private last: StreamPosition | undefined;
  private catchingUp = true;
  private running = false;
  private again = false;
  /** Live events (and drops, as their `history_lost` reset) held while catching up. */
  private buffer: (EventDelivery | ResetDelivery)[] = [];

  /** @param after - the subscriber's resume point; `undefined` for live only. */
  constructor(
    private readonly host: ReplayMergeHost,
    private readonly after: string | undefined,
  ) {}

  /** The last position delivered (or taken as the start), once known. */
  get position(): StreamPosition | undefined {
    return this.last;
  }

  /** A live event of the topic. */
  onLive(delivery: EventDelivery): void {
    if (!this.active) return;
    if (this.catchingUp) this.buffer.push(delivery);
    else this.forward(delivery);
  }

  /**
   * The topic was dropped; `head` is its head afterwards. Delivers one `history_lost` reset at
   * `head` in order with live events (held with them while catching up), unless this subscription
   * is already at or past `head` (a catch-up that read the topic after the drop reset it already).
   */
  onDropped(head: StreamPosition): void {
    if (!this.active) return;
    const reset: ResetDelivery = { reset: true, position: head, reason: 'history_lost' };
    if (this.catchingUp) this.buffer.push(reset);
    else this.forward(reset);
  }

  /** Live events may be missing from now on: buffer them until the next catch-up has run. */
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
    } finally {
      this.running = false;
    }
    if (this.again) this.catchUp();
    else this.goLiveIfLive();
  }

  /** Catches up from the last delivered position (live events flow again), then goes live. */
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
        this.goLiveIfLive();
        break;
      }
    }
    this.running = false;
  }

  /**
   * Goes live unless live events may have gone missing meanwhile: then it keeps buffering, and the
   * recovery triggers another catch-up.
   */
  private goLiveIfLive(): void {
    if (!this.host.isLive()) return;
    const buffered = this.buffer;
    this.buffer = [];
    this.catchingUp = false;
    for (const delivery of buffered) this.forward(delivery);
  }

  /** One catch-up: reads pages until the end of the retained history, or delivers a reset. */
  private async pass(): Promise<void> {
    let cursor: StreamPosition;
    let origin: CursorOrigin;
    if (this.last !== undefined) {
      cursor = this.last;
      origin = 'delivered';
    } else if (this.after === undefined) {
      const head = await this.host.head();
      this.last ??= head;
      return;
    } else if (!isPosition(this.after)) {
      this.reset(await this.host.head(), 'malformed');
      return;
    } else {
      cursor = this.after;
      origin = 'requested';
    }
    for (;;) {
      const page = await this.host.read(cursor, REPLAY_PAGE_SIZE);
      if (!this.active) return;
      const reason = decideReplay(cursor, page, origin);
      if (reason) {
        this.reset(page.head, reason, reason === 'expired' ? retainedAfter(page) : undefined);
        return;
      }
      this.last ??= cursor;
      for (const delivery of page.entries) {
        if (!this.active) return;
        this.forward(delivery);
      }
      if (page.entries.length < REPLAY_PAGE_SIZE) return;
      cursor = this.last;
      origin = 'delivered';
    }
  }

  private reset(head: StreamPosition, reason: ResetReason, retained?: StreamPosition): void {
    if (!this.active) return;
    this.last = head;
    const delivery: ResetDelivery = { reset: true, position: head, reason };
    if (retained !== undefined) delivery.retainedAfter = retained;
    this.host.deliver(delivery);
  }

  private forward(delivery: EventDelivery | ResetDelivery): void {
    if (!this.active) return;
    if (this.last !== undefined && !isAfter(delivery.position, this.last)) return;
    this.last = delivery.position;
    this.host.deliver(delivery);
  }
}

/**
 * Where the retained tail of an expired topic starts: its floor, while any event is still retained
 * after it (a topic whose every event expired has no tail: the reset's head is all there is).
 */
function retainedAfter(range: RetainedRange): StreamPosition | undefined {
  if (range.floor === undefined || range.oldest === undefined) return undefined;
  return range.floor;
}
