import type { Flushable } from './flush-queue';
import type { HubReader, ReaderHub, ReaderOwner } from './hub-reader';
import type { ServerParts } from './server-parts';

/**
 * What the two owners of a hub's readers (the SSE streams and the long-polls of one handler)
 * share: the flush queue of the tick, the count of catch-up reads, and placing a new reader on its
 * topic's hub.
 */
export abstract class ReaderHost<Req> implements ReaderOwner {
  constructor(protected readonly parts: ServerParts<Req>) {}

  /** Queues `item` at the end of this tick. */
  schedule(item: Flushable): void {
    this.parts.registry.flushQueue.add(item);
  }

  /** {@link ReaderOwner} */
  catchUpStarted(): void {
    this.parts.counters.catchUpReads++;
  }

  /** The hub of `topic`, acquired for a new reader (which enters it). */
  protected hubOf(topic: string): ReaderHub {
    return this.parts.registry.acquire(topic, this.parts.options.onError);
  }

  /**
   * Places `reader` on `hub` after `after`; resolves true once placed. When the hub could not
   * subscribe, `abandon` ends the reader and the call rejects with a 503 `StreamHttpError`, or
   * resolves false when the reader had `ended` already (nobody waits for it).
   */
  protected async place(
    hub: ReaderHub,
    reader: HubReader,
    after: string | undefined,
    ended: () => boolean,
    abandon: () => void,
  ): Promise<boolean> {
    try {
      await hub.attach(reader, after);
      return true;
    } catch (error) {
      const stillWanted = !ended();
      abandon();
      if (stillWanted) throw this.parts.unavailable(error);
      return false;
    }
  }
}
