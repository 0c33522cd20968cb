import type { BusDelivery, EventBus, ResetReason, Subscription } from '@repopulse/events-core';
import { comparePositions, isPosition } from '@repopulse/events-core/wire';
import { CatchUp, type CatchUpHost } from './catch-up';
import type { Flushable } from './flush-queue';
import { FrameWindow, serializeEvent, type WindowLimits } from './frame-window';
import { type HubReader, type ReaderHub, type ReaderOwner, resetItem, type TickItem } from './hub-reader';
import type { HubTelemetry } from './metrics';

/** What a hub needs from the handler that owns it. */
export interface HubHost {
  readonly bus: EventBus;
  readonly limits: WindowLimits;
  /** Queues a flush at the end of this tick. */
  schedule(item: Flushable): void;
  /** Gives back a subscription (errors reported, never thrown). */
  release(subscription: Subscription): void;
  /** OpenTelemetry hooks, when it is registered. */
  readonly telemetry?: HubTelemetry | undefined;
  /** The hub could not subscribe, or its last reader left: forget it (the next request starts anew). */
  forget(hub: TopicHub): void;
}

/**
 * Everything one handler holds for one topic: exactly one bus subscription while the topic has
 * streams or long-polls, a bounded window of recent serialized frames, and the readers.
 *
 * - Live: the frames one tick delivered are joined once and the same bytes go to every in-step
 *   reader.
 * - Resume inside the window: served from it, then live, with no gap and no duplicate.
 * - Resume from older: one bus catch-up read shared by every reader resuming older in that tick (and
 *   by later ones it can still serve); what it read extends the window.
 * - A reset the bus reports to the hub reaches every in-step reader as the reset frame.
 *
 * Readers join at the hub's flush, after that tick's live frames went out, so a reader's replay
 * and the live frames never overlap.
 */
export class TopicHub implements Flushable, CatchUpHost, ReaderHub {
  /** @internal flush-queue state */
  queued = false;
  /** Streams plus long-polls using this hub (of every handler sharing it); it closes at 0. */
  users = 0;
  /** Resolves once the hub's subscription is active; rejects if it could not subscribe. */
  readonly ready: Promise<void>;
  /** True once closed (no users left) or failed. */
  closed = false;

  private readonly live = new Set<HubReader>();
  private joining: HubReader[] = [];
  private readonly catchUps = new Set<CatchUp>();
  private pending: TickItem[] = [];
  private window: FrameWindow | undefined;
  private subscription: Subscription | undefined;
  /** The head read when the hub started: "from the head" for readers that arrived before it was ready. */
  private startHead: string | undefined;

  constructor(
    readonly topic: string,
    private readonly host: HubHost,
  ) {
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  /** Bounds of the window (and of what a catch-up keeps). */
  get limits(): WindowLimits {
    return this.host.limits;
  }

  /** Events and bytes held in the window. */
  get windowSize(): { events: number; bytes: number } {
    return { events: this.window?.size ?? 0, bytes: this.window?.bytes ?? 0 };
  }

  private async start(): Promise<void> {
    const { bus } = this.host;
    try {
      const head = await bus.head(this.topic);
      if (this.closed) return;
      this.startHead = head;
      this.window = new FrameWindow(head, this.host.limits);
      const subscription = await bus.subscribe(this.topic, this.deliver, { after: head });
      if (this.closed) this.host.release(subscription);
      else this.subscription = subscription;
    } catch (error) {
      if (!this.closed) {
        this.closed = true;
        this.host.forget(this);
      }
      throw error;
    }
  }

  /** {@link ReaderHub} */
  enter(): void {
    this.users++;
  }

  /** {@link ReaderHub} */
  async attach(reader: HubReader, resumeFrom: string | undefined): Promise<void> {
    // "From the head" is the head when the reader arrived: events the subscription delivers while
    // it waits for the hub to be ready are after it.
    const arrivedAt = this.window?.head ?? this.startHead;
    await this.ready;
    if (reader.gone || this.closed) return;
    reader.resumeFrom = resumeFrom ?? arrivedAt ?? (this.startHead as string);
    reader.solo = false;
    return new Promise<void>((resolve, reject) => {
      reader.placed = (error) => {
        reader.placed = undefined;
        if (error === undefined) resolve();
        else reject(error);
      };
      this.joining.push(reader);
      this.host.schedule(this);
    });
  }

  /** {@link ReaderHub} */
  pauseReader(reader: HubReader): void {
    this.live.delete(reader);
  }

  /** {@link ReaderHub} */
  rejoin(reader: HubReader, from: string): void {
    if (this.closed || reader.gone) return;
    reader.resumeFrom = from;
    reader.solo = false;
    reader.matched = false;
    this.joining.push(reader);
    this.host.schedule(this);
  }

  /** {@link ReaderHub}: the last reader out closes the hub. */
  leave(reader: HubReader): void {
    this.live.delete(reader);
    reader.placed?.();
    this.users--;
    if (this.users > 0) return;
    this.close();
    this.host.forget(this);
  }

  /** No users left: unsubscribe and drop everything. */
  private close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.subscription) this.host.release(this.subscription);
    this.subscription = undefined;
    for (const catchUp of this.catchUps) this.finish(catchUp);
    this.catchUps.clear();
    this.live.clear();
    this.joining = [];
    this.pending = [];
    this.window = undefined;
  }

  /** The hub's one bus handler. */
  private readonly deliver = (delivery: BusDelivery): void => {
    const window = this.window;
    if (this.closed || !window) return;
    if (delivery.reset) {
      window.restart(delivery.position);
      this.host.telemetry?.reset(delivery.reason, this.live.size);
      this.pending.push(resetItem(delivery));
    } else {
      const entry = serializeEvent(delivery);
      this.host.telemetry?.received(this.topic, delivery.event.ts, Date.now());
      window.push(entry);
      this.pending.push(entry);
    }
    this.host.schedule(this);
  };

  /** @internal once per tick: live frames out, then catch-ups that met the window, then joiners. */
  flush(_joiner: unknown, now: number): void {
    if (this.closed || !this.window) return;
    const pending = this.pending;
    if (pending.length > 0) {
      this.pending = [];
      if (this.live.size > 0) {
        const joined =
          pending.length === 1
            ? (pending[0] as TickItem).frame
            : Buffer.concat(pending.map((item) => item.frame));
        for (const reader of this.live) reader.sendLive(joined, pending, now);
        this.host.telemetry?.delivered(pending.length, joined.length, this.live.size);
      }
    }
    if (this.catchUps.size > 0) this.mergeCatchUps();
    if (this.joining.length > 0) this.placeJoining();
  }

  /** @internal {@link CatchUpHost} */
  requeue(reader: HubReader): void {
    reader.solo = true;
    reader.matched = false;
    this.joining.push(reader);
    this.host.schedule(this);
  }

  /** @internal {@link CatchUpHost} */
  resetSent(reason: ResetReason, readers: number): void {
    this.host.telemetry?.reset(reason, readers);
  }

  /** @internal {@link CatchUpHost} */
  caughtUpMaybe(): void {
    this.host.schedule(this);
  }

  private goLive(reader: HubReader, window: FrameWindow, from: string): void {
    const events = window.after(from);
    if (events && events.length > 0) reader.sendEvents(events);
    if (!reader.paused) this.live.add(reader);
    reader.placed?.();
  }

  private mergeCatchUps(): void {
    const window = this.window as FrameWindow;
    for (const catchUp of this.catchUps) {
      if (!catchUp.done && !catchUp.serving()) {
        // Every member paused or left: stop reading; a member rejoins from its own position.
        this.catchUps.delete(catchUp);
        this.finish(catchUp);
        continue;
      }
      if (catchUp.done || !window.covers(catchUp.cursor)) continue;
      this.catchUps.delete(catchUp);
      this.finish(catchUp);
      if (!catchUp.reset) window.prepend(catchUp.readFrom, catchUp.read);
      for (const member of catchUp.members) {
        if (member.gone || member.paused) continue;
        if (member.matched) this.goLive(member, window, catchUp.cursor);
        else this.joining.push(member); // its point was not reached: place it afresh
      }
    }
  }

  private placeJoining(): void {
    const window = this.window as FrameWindow;
    const joining = this.joining;
    this.joining = [];
    let shared: HubReader[] | undefined;
    let oldest = '';
    let solo: Map<string, HubReader[]> | undefined;
    for (const reader of joining) {
      if (reader.gone || reader.paused) continue;
      const from = reader.resumeFrom as string;
      if (window.covers(from)) {
        this.goLive(reader, window, from);
        continue;
      }
      if (!reader.solo && isPosition(from) && comparePositions(from, window.base) < 0) {
        if (this.joinCatchUp(reader, from)) continue;
        shared ??= [];
        shared.push(reader);
        if (oldest === '' || comparePositions(from, oldest) < 0) oldest = from;
        continue;
      }
      // Malformed, ahead of the hub, unknown to the window, or passed over: the bus decides.
      solo ??= new Map();
      const group = solo.get(from);
      if (group) group.push(reader);
      else solo.set(from, [reader]);
    }
    if (shared) this.startCatchUp(oldest, shared);
    if (solo) for (const [from, readers] of solo) this.startCatchUp(from, readers);
  }

  private joinCatchUp(reader: HubReader, from: string): boolean {
    for (const catchUp of this.catchUps) {
      if (!catchUp.join(reader, from)) continue;
      if (catchUp.subscription) reader.placed?.();
      return true;
    }
    return false;
  }

  private startCatchUp(from: string, readers: HubReader[]): void {
    const catchUp = new CatchUp(from, readers, this);
    this.catchUps.add(catchUp);
    const owners = new Set<ReaderOwner>();
    for (const reader of readers) owners.add(reader.owner);
    for (const owner of owners) owner.catchUpStarted();
    catchUp.ended = this.host.telemetry?.catchUpStarted(this.topic, from, readers.length);
    this.host.bus.subscribe(this.topic, catchUp.deliver, { after: from }).then(
      (subscription) => {
        catchUp.subscription = subscription;
        if (catchUp.done) {
          this.host.release(subscription);
          return;
        }
        for (const member of catchUp.members) member.placed?.();
      },
      (error: unknown) => {
        if (catchUp.done) return;
        catchUp.ended?.(error ?? new Error('subscribe failed'));
        this.catchUps.delete(catchUp);
        catchUp.done = true;
        for (const member of catchUp.members) member.placed?.(error ?? new Error('subscribe failed'));
      },
    );
  }

  private finish(catchUp: CatchUp): void {
    catchUp.done = true;
    catchUp.ended?.();
    if (catchUp.subscription) this.host.release(catchUp.subscription);
  }
}
