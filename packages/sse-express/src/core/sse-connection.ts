import { type BusDelivery, encodeSseReset, type Subscription } from '@repopulse/events-core';
import type { Deadline } from './deadline-queue';
import type { ChunkJoiner, Flushable } from './flush-queue';
import type { NodeResponse } from './node-response';
import type { TopicGroup } from './topic-registry';

/** Why a stream ended. */
export type StreamCloseReason = 'client' | 'backpressure' | 'token_expired' | 'shutdown' | 'error';

/** What a connection needs from the handler that owns it. */
export interface StreamHost {
  /** Unsent bytes above which a connection is closed. */
  readonly maxBufferedBytes: number;
  /** Queues a flush at the end of this tick. */
  schedule(item: Flushable): void;
  /** Called exactly once when the connection is done (subscription already released). */
  streamClosed(connection: SseConnection, reason: StreamCloseReason): void;
}

/**
 * One SSE response. Frames are queued (shared buffers, no copy) and written once per tick; while
 * the socket does not drain, frames stay queued and count as unsent bytes; above
 * `maxBufferedBytes` the connection is destroyed (the client resumes from its last event id).
 */
export class SseConnection implements Flushable, Deadline {
  /** @internal flush-queue state */
  queued = false;
  /** @internal deadline-queue state: when the credentials expire */
  deadline = Number.POSITIVE_INFINITY;
  /** @internal deadline-queue state */
  heapIndex = -1;
  /** The bus subscription, once active. */
  subscription: Subscription | undefined;
  /** True once closed; nothing is written after. */
  closed = false;
  /** Why it closed, once closed. */
  closeReason: StreamCloseReason | undefined;
  /** Time of the last write (ms since epoch), for heartbeats. */
  lastWriteAt = 0;

  private chunks: Buffer[] = [];
  private pendingBytes = 0;
  private opened = false;
  private blocked = false;
  private blockedBytes = 0;

  constructor(
    readonly res: NodeResponse,
    readonly group: TopicGroup,
    private readonly host: StreamHost,
  ) {
    res.on('close', this.onResponseClose);
  }

  /** The bus handler: turns each delivery into its (shared) frame bytes. */
  readonly deliver = (delivery: BusDelivery): void => {
    if (this.closed) return;
    try {
      this.enqueue(
        delivery.reset
          ? Buffer.from(encodeSseReset(delivery.reason, delivery.position, delivery.retainedAfter), 'utf8')
          : this.group.cache.get(delivery).frame,
      );
    } catch (error) {
      // A frame that cannot be encoded must not become a silent gap: end the stream.
      this.close('error');
      throw error;
    }
  };

  /** Bytes accepted but not yet handed to the kernel: queued here plus buffered by Node. */
  get unsentBytes(): number {
    const inNode = this.res.writableLength;
    return this.pendingBytes + (typeof inNode === 'number' ? inNode : this.blocked ? this.blockedBytes : 0);
  }

  /** Sends the status line and headers plus `preamble`, then anything delivered meanwhile. */
  open(headers: Record<string, string>, preamble: Buffer, now: number): void {
    if (this.closed) return;
    this.res.on('drain', this.onDrain);
    this.res.writeHead(200, headers);
    this.opened = true;
    this.chunks.unshift(preamble);
    this.pendingBytes += preamble.length;
    this.write(this.takeChunks(undefined), now);
  }

  /** Queues raw bytes for this tick's write. */
  enqueue(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.pendingBytes += bytes.length;
    if (this.blocked) {
      if (this.unsentBytes > this.host.maxBufferedBytes) this.close('backpressure');
    } else if (this.opened) this.host.schedule(this);
  }

  /** Writes the bytes gathered this tick in one `write()`. */
  flush(joiner: ChunkJoiner, now: number): void {
    if (this.closed || !this.opened || this.blocked || this.chunks.length === 0) return;
    this.write(this.takeChunks(joiner), now);
  }

  /** Writes `comment` if nothing was written for `idleMs` and nothing waits. True when written. */
  heartbeat(comment: Buffer, now: number, idleMs: number): boolean {
    if (this.closed || !this.opened || this.blocked || this.chunks.length > 0) return false;
    if (now - this.lastWriteAt < idleMs) return false;
    this.write(comment, now);
    return true;
  }

  /** @internal the credentials expired */
  onDeadline(): void {
    this.close('token_expired');
  }

  /**
   * Ends the stream. `backpressure` and `error` (and a stream that does not drain) destroy the
   * socket, dropping unsent bytes; the others end it cleanly after what is queued. Before
   * {@link open} it only marks the connection closed: the handler then answers the request.
   */
  close(reason: StreamCloseReason): void {
    if (this.closed) return;
    if (!this.opened) {
      this.finish(reason);
      return;
    }
    if (reason === 'backpressure' || reason === 'error' || this.blocked) {
      this.finish(reason);
      this.res.destroy();
      return;
    }
    const rest = this.chunks.length === 0 ? undefined : this.takeChunks(undefined);
    this.finish(reason);
    if (rest) this.res.end(rest);
    else this.res.end();
  }

  private write(data: Buffer, now: number): void {
    this.lastWriteAt = now;
    const res = this.res;
    const ok = res.write(data);
    res.flush?.();
    if (!ok) {
      this.blocked = true;
      this.blockedBytes = data.length;
    }
  }

  private takeChunks(joiner: ChunkJoiner | undefined): Buffer {
    const chunks = this.chunks;
    const data =
      chunks.length === 1
        ? (chunks[0] as Buffer)
        : joiner
          ? joiner.join(chunks, this.pendingBytes)
          : Buffer.concat(chunks, this.pendingBytes);
    this.chunks = [];
    this.pendingBytes = 0;
    return data;
  }

  private readonly onDrain = (): void => {
    if (!this.blocked) return;
    this.blocked = false;
    this.blockedBytes = 0;
    if (!this.closed && this.chunks.length > 0) this.host.schedule(this);
  };

  private readonly onResponseClose = (): void => {
    if (this.closed) return;
    this.finish('client');
  };

  private finish(reason: StreamCloseReason): void {
    this.closed = true;
    this.closeReason = reason;
    this.chunks = [];
    this.pendingBytes = 0;
    this.host.streamClosed(this, reason);
  }
}
