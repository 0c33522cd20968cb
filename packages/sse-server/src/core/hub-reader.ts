import type { StreamPosition } from '@repopulse/events-core';
import { encodeSseReset, type ResetDelivery } from '@repopulse/events-core/wire';
import type { SerializedEvent } from './frame-window';

/** What a reader's handler counts: bus catch-up reads made for its readers. */
export interface ReaderOwner {
  /** A catch-up read serving at least one of the owner's readers started. */
  catchUpStarted(): void;
}

/**
 * A reader's view of its topic hub: it joins on creation ({@link enter}), is placed with
 * {@link attach}, steps out while paused, and {@link leave}s when done. The last reader to leave
 * closes the hub.
 */
export interface ReaderHub {
  /** The hub's topic. */
  readonly topic: string;
  /** Counts a new reader in (the hub stays subscribed while it has readers). */
  enter(): void;
  /**
   * Places `reader` (resuming after `resumeFrom`, or from the head when `undefined`): resolves once
   * it is served (in step, or its catch-up read is active), at once if it leaves first; rejects when
   * the bus could not subscribe.
   */
  attach(reader: HubReader, resumeFrom: string | undefined): Promise<void>;
  /** The reader paused (see {@link HubReader.paused}): no live frames until it {@link rejoin}s. */
  pauseReader(reader: HubReader): void;
  /** A paused reader takes bytes again: place it afresh after `from` (window or catch-up). */
  rejoin(reader: HubReader, from: string): void;
  /** The reader is done: stop serving it and count it out. */
  leave(reader: HubReader): void;
}

/**
 * What a topic hub serves: an SSE connection or a long-poll. The hub fields are the reader's place
 * in its hub (set only by the hub), so no per-reader objects or closures are needed.
 */
export interface HubReader {
  /** The handler the reader belongs to (several handlers may share one hub). */
  readonly owner: ReaderOwner;
  /** True once the reader is done (closed, answered); the hub then skips it. */
  readonly gone: boolean;
  /**
   * True while the reader takes no more events for now (an SSE connection at its byte cap waiting
   * for its socket to drain, a long-poll whose answer is full); the hub and catch-ups drop it.
   */
  readonly paused: boolean;
  /** @internal where the reader resumes from; `undefined`: from the hub's head */
  resumeFrom: string | undefined;
  /** @internal served by its own catch-up read (it fell through a shared one) */
  solo: boolean;
  /** @internal in a catch-up: reached its resume point, receiving events */
  matched: boolean;
  /** @internal settles the reader's `attach` promise */
  placed: ((error?: unknown) => void) | undefined;
  /** One event, to this reader only (window replay, catch-up); it may pause the reader instead. */
  sendEvent(entry: SerializedEvent): void;
  /** Several events at once, to this reader only; it takes those it can and may pause. */
  sendEvents(entries: readonly SerializedEvent[]): void;
  /** A reset: the reader's point cannot be replayed; live events follow its position. */
  sendReset(item: ResetItem): void;
  /**
   * One tick of live items, shared by every in-step reader of the topic: `joined` is their frames
   * joined once (the same bytes for every stream), `items` the same items one by one; `now` is the
   * tick's clock reading.
   */
  sendLive(joined: Buffer, items: readonly TickItem[], now: number): void;
}

/** A reset as one item of a tick (or of a catch-up read), its frame encoded once for every reader. */
export interface ResetItem {
  /** The reset as the bus delivered it. */
  readonly reset: ResetDelivery;
  /** The head live events follow. */
  readonly position: StreamPosition;
  /** The `event: reset` frame bytes. */
  readonly frame: Buffer;
}

/** The tick item of a reset the bus delivered. */
export function resetItem(reset: ResetDelivery): ResetItem {
  return { reset, position: reset.position, frame: Buffer.from(encodeSseReset(reset), 'utf8') };
}

/** What a hub's subscription delivered in one tick, in order. */
export type TickItem = SerializedEvent | ResetItem;
