import type { BusDelivery, ResetReason, Subscription } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { indexOfPosition, type SerializedEvent, serializeEvent, type WindowLimits } from './frame-window';
import { type HubReader, resetItem } from './hub-reader';

/** What a catch-up needs from its hub. */
export interface CatchUpHost {
  /** Bounds of what a catch-up keeps to extend the hub's window. */
  readonly limits: WindowLimits;
  /** A member could not be served by this read (it passed the member's point): give it its own. */
  requeue(reader: HubReader): void;
  /** Something arrived: check at the end of the tick whether the read met the window. */
  caughtUpMaybe(): void;
  /** A reset frame went to `readers` members (for metrics). */
  resetSent?(reason: ResetReason, readers: number): void;
}

/**
 * One bus catch-up read shared by every reader of a topic that resumed, in one tick, from a point
 * older than the hub's window: a temporary subscription from the oldest of their points. Each
 * member starts receiving after its own point (met exactly; one passed over is requeued for a read
 * of its own, so the bus still decides unknown points). The read ends when it meets the hub's
 * window, and what it read is kept (within the window limits) to extend the window backwards, so
 * later readers from the same point need no read at all.
 */
export class CatchUp {
  /** Readers served by this read. */
  readonly members: HubReader[];
  /** The position of the last delivery (an event or a reset). */
  cursor: string;
  /** True once a reset was delivered: what was read cannot extend the window. */
  reset = false;
  /** True once finished (met the window, or the hub closed): later deliveries are ignored. */
  done = false;
  /** The subscription once `subscribe` resolved. */
  subscription: Subscription | undefined;
  /** Events read, newest last, bounded like the window. */
  readonly read: SerializedEvent[] = [];
  /** {@link read} holds every event after this position up to the cursor. */
  readFrom: string;
  private readBytes = 0;
  /** Ends the read's span, when OpenTelemetry is registered. */
  ended: ((error?: unknown) => void) | undefined;

  constructor(
    /** The point the read starts after (the oldest member's). */
    readonly from: string,
    members: HubReader[],
    private readonly host: CatchUpHost,
  ) {
    this.members = members;
    this.cursor = from;
    this.readFrom = from;
    for (const member of members) member.matched = member.resumeFrom === from;
  }

  /** The bus handler of this read. */
  readonly deliver = (delivery: BusDelivery): void => {
    if (this.done) return;
    if (this.members.length === 0) {
      // Every member paused or left (members leave only here and in `join`): nothing to serialize;
      // the hub ends the read at its next flush.
      this.host.caughtUpMaybe();
      return;
    }
    if (delivery.reset) {
      this.reset = true;
      this.read.length = 0;
      this.readBytes = 0;
      this.readFrom = delivery.position;
      const item = resetItem(delivery);
      let readers = 0;
      this.keep((member) => {
        if (!member.matched) return false;
        member.sendReset(item);
        readers++;
        return true;
      });
      this.host.resetSent?.(delivery.reason, readers);
      this.cursor = delivery.position;
    } else {
      const entry = serializeEvent(delivery);
      const position = delivery.position;
      this.keep((member) => {
        if (member.matched) {
          member.sendEvent(entry);
          return true;
        }
        if (member.resumeFrom === position) {
          member.matched = true;
          return true;
        }
        return comparePositions(position, member.resumeFrom as string) < 0;
      });
      this.cursor = position;
      if (!this.reset) this.remember(entry);
    }
    this.host.caughtUpMaybe();
  };

  /**
   * Adds a reader resuming from `position` when this read can still serve it: its point is where the
   * kept events start, among them, or ahead of the cursor (not reached yet). False otherwise.
   */
  join(reader: HubReader, position: string): boolean {
    if (this.done || this.reset || comparePositions(position, this.from) < 0) return false;
    if (comparePositions(position, this.cursor) >= 0) {
      reader.matched = position === this.cursor;
    } else {
      const index = position === this.readFrom ? -1 : indexOfPosition(this.read, position, 0);
      if (index === -1 && position !== this.readFrom) return false;
      const missed = this.read.slice(index + 1);
      if (missed.length > 0) reader.sendEvents(missed);
      reader.matched = true;
    }
    if (!reader.paused) this.members.push(reader);
    return true;
  }

  /** True while some member is still served (not gone, not paused). */
  serving(): boolean {
    return this.members.some((member) => !member.gone && !member.paused);
  }

  /**
   * Keeps members for which `serve` is true; the others are requeued (gone ones dropped, and paused
   * ones: they rejoin the hub from their own position once drained).
   */
  private keep(serve: (member: HubReader) => boolean): void {
    const members = this.members;
    let kept = 0;
    for (let i = 0; i < members.length; i++) {
      const member = members[i] as HubReader;
      if (member.gone || member.paused) continue;
      if (!serve(member)) this.host.requeue(member);
      else if (!member.paused) members[kept++] = member;
    }
    members.length = kept;
  }

  private remember(entry: SerializedEvent): void {
    this.read.push(entry);
    this.readBytes += entry.frame.length;
    const { events, bytes } = this.host.limits;
    let drop = 0;
    while (drop < this.read.length && (this.read.length - drop > events || this.readBytes > bytes)) {
      const dropped = this.read[drop] as SerializedEvent;
      this.readBytes -= dropped.frame.length;
      this.readFrom = dropped.position;
      drop++;
    }
    if (drop > 0) this.read.splice(0, drop);
  }
}
