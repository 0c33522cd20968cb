/** Something with output to write once per tick. */
export interface Flushable {
  /** True while waiting in a {@link FlushQueue}; only the queue sets it. */
  queued: boolean;
  /** Writes everything gathered since the last flush. */
  flush(joiner: ChunkJoiner, now: number): void;
}

/**
 * Coalescing: every frame produced in one tick is gathered per connection and written with one
 * `write()` at `setImmediate`. One queue (and at most one pending immediate) per handler.
 */
export class FlushQueue {
  private items: Flushable[] = [];
  private scheduled: ReturnType<typeof setImmediate> | undefined;
  private readonly joiner = new ChunkJoiner();

  /** Queues `item` for the end of this tick (once, however often it is called). */
  add(item: Flushable): void {
    if (item.queued) return;
    item.queued = true;
    this.items.push(item);
    this.scheduled ??= setImmediate(this.run);
  }

  /** Flushes everything queued now. */
  readonly run = (): void => {
    this.scheduled = undefined;
    const items = this.items;
    this.items = [];
    const now = Date.now();
    for (const item of items) {
      item.queued = false;
      item.flush(this.joiner, now);
    }
    this.joiner.clear();
  };

  /** Cancels the pending immediate (items stay queued until {@link run}). */
  dispose(): void {
    if (this.scheduled) clearImmediate(this.scheduled);
    this.scheduled = undefined;
  }
}

/**
 * Joins a connection's chunks into one buffer, reusing the previous result when the next
 * connection holds the very same chunks: connections of one topic that are live receive the same
 * frames in the same tick, so they share one joined buffer too.
 */
export class ChunkJoiner {
  private lastChunks: readonly Buffer[] | undefined;
  private lastJoined: Buffer | undefined;

  /** `Buffer.concat(chunks)`, shared with the previous call when the chunks are identical. */
  join(chunks: readonly Buffer[], totalBytes: number): Buffer {
    if (chunks.length === 1) return chunks[0] as Buffer;
    const last = this.lastChunks;
    if (last && this.lastJoined && last.length === chunks.length) {
      let same = true;
      for (let i = 0; i < chunks.length; i++) {
        if (last[i] !== chunks[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastJoined;
    }
    const joined = Buffer.concat(chunks as Buffer[], totalBytes);
    this.lastChunks = chunks;
    this.lastJoined = joined;
    return joined;
  }

  /** Forgets the cached result (end of a flush pass). */
  clear(): void {
    this.lastChunks = undefined;
    this.lastJoined = undefined;
  }
}
