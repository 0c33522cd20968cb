import {
  encodeLongPollBody,
  encodeLongPollItem,
  type LongPollBody,
  type ResetDelivery,
} from '@repopulse/events-core/wire';
import type { Deadline } from './deadline-queue';
import type { Flushable } from './flush-queue';
import type { SerializedEvent } from './frame-window';
import type { HubReader, ReaderHub, ReaderOwner, ResetItem, TickItem } from './hub-reader';
import type { ResponseSink } from './response-sink';

/** @deprecated The wire module's `LongPollBody` (`@repopulse/events-core/wire`). */
export type LongPollResponse = LongPollBody;

/** How a long-poll ended. */
export type LongPollEnd = 'answered' | 'timeout' | 'client' | 'shutdown' | 'error';

/** What a long-poll needs from the handler that owns it. */
export interface LongPollHost extends ReaderOwner {
  /** Most events in one answer. */
  readonly maxEvents: number;
  /** Most bytes of events in one answer (the first event always fits). */
  readonly maxBytes: number;
  /** Queues an answer at the end of this tick (so a burst of events goes in one answer). */
  schedule(item: Flushable): void;
  /** Called exactly once when the poll is done (after it left its hub). */
  longPollDone(poll: LongPoll, end: LongPollEnd): void;
}

const JSON_HEADERS = {
  'Content-Type': 'application/json; charset=utf-8',
  'Cache-Control': 'no-store',
};

/**
 * One JSON long-poll, served by its topic's hub after `after`: answers at the end of the tick in
 * which the first delivery arrives (at once when events are already there), or with no events at
 * its deadline. Events are built from the topic's shared serialized JSON. An answer holds at most
 * `maxEvents` events and `maxBytes` bytes of them: once full, the poll takes nothing more (it is
 * paused for its hub) and its `position` is where the next poll continues.
 */
export class LongPoll implements Flushable, Deadline, HubReader {
  /** @internal flush-queue state */
  queued = false;
  /** @internal deadline-queue state: when to give up waiting */
  deadline = Number.POSITIVE_INFINITY;
  /** @internal deadline-queue state */
  heapIndex = -1;
  /** True once answered or abandoned. */
  done = false;
  /** @internal {@link HubReader} state */
  resumeFrom: string | undefined = undefined;
  /** @internal {@link HubReader} state */
  solo = false;
  /** @internal {@link HubReader} state */
  matched = false;
  /** @internal {@link HubReader} state */
  placed: ((error?: unknown) => void) | undefined = undefined;
  /** @internal the key it counts against for `maxConnectionsPerKey` */
  connectionKey: string | undefined = undefined;

  /** {@link HubReader}: true once the answer is full. */
  paused = false;

  private readonly items: string[] = [];
  private itemBytes = 0;
  private position = '';
  private reset: ResetDelivery | undefined;
  private ready = false;

  /** Enters `hub` at once; leaves it when done. */
  constructor(
    private readonly res: ResponseSink,
    readonly hub: ReaderHub,
    private readonly host: LongPollHost,
  ) {
    hub.enter();
    res.on('close', () => this.responseClosed());
  }

  /** {@link HubReader}: the handler. */
  get owner(): ReaderOwner {
    return this.host;
  }

  /** {@link HubReader}: true once answered or abandoned. */
  get gone(): boolean {
    return this.done;
  }

  /** {@link HubReader} */
  sendEvent(entry: SerializedEvent): void {
    if (this.done || this.paused) return;
    const item = encodeLongPollItem(entry.position, entry.json);
    const bytes = Buffer.byteLength(item, 'utf8') + 1;
    if (this.items.length > 0 && this.itemBytes + bytes > this.host.maxBytes) {
      this.full();
      return;
    }
    this.items.push(item);
    this.itemBytes += bytes;
    this.position = entry.position;
    if (this.items.length >= this.host.maxEvents) this.full();
    else if (this.ready) this.host.schedule(this);
  }

  /** {@link HubReader} */
  sendEvents(entries: readonly SerializedEvent[]): void {
    for (const entry of entries) {
      if (this.paused) return;
      this.sendEvent(entry);
    }
  }

  /** The answer is full: take nothing more, answer (now, or once started). */
  private full(): void {
    this.paused = true;
    this.hub.pauseReader(this);
    this.placed?.();
    if (this.ready) this.host.schedule(this);
  }

  /** {@link HubReader} */
  sendReset(item: ResetItem): void {
    if (this.done || this.paused) return;
    this.reset = item.reset;
    this.items.length = 0;
    this.itemBytes = 0;
    this.position = item.position;
    if (this.ready) this.host.schedule(this);
  }

  /** {@link HubReader} */
  sendLive(_joined: Buffer, items: readonly TickItem[]): void {
    for (const item of items) {
      if (this.paused) return;
      if ('reset' in item) this.sendReset(item);
      else this.sendEvent(item);
    }
  }

  /** True once subscribed and waiting (or about to answer). */
  get started(): boolean {
    return this.ready;
  }

  /** Gives up without answering (the subscribe failed; the caller answers with an error). */
  abandon(): void {
    if (this.done) return;
    this.done = true;
    this.hub.leave(this);
    this.host.longPollDone(this, 'error');
  }

  /**
   * The subscription is active: answer at once when something arrived (or `waitMs` is 0),
   * else wait until `now + waitMs` (the caller caps it at the credentials' expiry). Returns true
   * when it has to wait.
   */
  start(now: number, waitMs: number): boolean {
    if (this.done) return false;
    this.ready = true;
    if (this.items.length > 0 || this.reset || waitMs <= 0) {
      this.host.schedule(this);
      return false;
    }
    this.deadline = now + waitMs;
    return true;
  }

  /** @internal answers with what arrived this tick */
  flush(): void {
    this.answer('answered');
  }

  /** @internal the wait is over */
  onDeadline(): void {
    this.answer('timeout');
  }

  /** Answers now with whatever arrived (used at shutdown too). */
  answer(end: LongPollEnd): void {
    if (this.done) return;
    this.done = true;
    const body = Buffer.from(
      encodeLongPollBody(this.items, this.position || this.resumeFrom || '', this.reset),
      'utf8',
    );
    this.hub.leave(this);
    this.host.longPollDone(this, end);
    this.res.writeHead(200, { ...JSON_HEADERS, 'Content-Length': String(body.length) });
    this.res.end(body);
  }

  private responseClosed(): void {
    if (this.done) return;
    this.done = true;
    this.hub.leave(this);
    this.host.longPollDone(this, 'client');
  }
}
