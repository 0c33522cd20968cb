import type { Deadline } from './deadline-queue';
import type { ChunkJoiner, Flushable } from './flush-queue';
import type { SerializedEvent } from './frame-window';
import type { HubReader, TickItem } from './hub-reader';
import type { NodeResponse } from './node-response';
import type { TopicHub } from './topic-hub';

/** Why a stream ended. */
export type StreamCloseReason = 'client' | 'backpressure' | 'token_expired' | 'shutdown' | 'error';

/** What a connection needs from the handler that owns it. */
export interface StreamHost {
  /** Unsent bytes above which a connection is closed. */
  readonly maxBufferedBytes: number;
  /** Queues a flush at the end of this tick. */
  schedule(item: Flushable): void;
  /** Called exactly once when the connection is done. */
  streamClosed(connection: SseConnection, reason: StreamCloseReason): void;
}

/**
 * One SSE response, served by its topic's hub. In step, the hub's joined tick bytes are written
 * straight away (one `write()` per tick, the same buffer for every connection); frames meant for
 * this connection alone (replay, catch-up) are queued and written once per tick. While the socket
 * does not drain, bytes stay queued and count as unsent; above `maxBufferedBytes` the connection is
 * destroyed (the client resumes from its last event id). An idle connection holds no arrays.
 */
export class SseConnection implements Flushable, Deadline, HubReader {
  /** @internal flush-queue state */
  queued = false;
  /** @internal deadline-queue state: when the credentials expire */
  deadline = Number.POSITIVE_INFINITY;
  /** @internal deadline-queue state */
  heapIndex = -1;
  /** @internal {@link HubReader} state */
  resumeFrom: string | undefined = undefined;
  /** @internal {@link HubReader} state */
  solo = false;
  /** @internal {@link HubReader} state */
  matched = false;
  /** @internal {@link HubReader} state */
  placed: ((error?: unknown) => void) | undefined = undefined;
  /** True once closed; nothing is written after. */
  closed = false;
  /** Why it closed, once closed. */
  closeReason: StreamCloseReason | undefined;
  /** Time of the last write (ms since epoch), for heartbeats. */
  lastWriteAt = 0;

  /** True once the status line and headers went out. */
  opened = false;

  private chunks: Buffer[] | undefined = undefined;
  private pendingBytes = 0;
  private blocked = false;
  private blockedBytes = 0;

  constructor(
    readonly res: NodeResponse,
    readonly hub: TopicHub,
    private readonly host: StreamHost,
  ) {
    // Assigned here, not as class fields: a class-field arrow function carries its own `name`
    // property (a ~256-byte property array per function, per connection).
    this.onDrain = () => this.drained();
    this.onResponseClose = () => this.responseClosed();
    res.on('close', this.onResponseClose);
  }

  /** {@link HubReader}: true once closed. */
  get gone(): boolean {
    return this.closed;
  }

  /** {@link HubReader} */
  sendEvent(entry: SerializedEvent): void {
    if (!this.closed) this.enqueue(entry.frame);
  }

  /** {@link HubReader} */
  sendEvents(entries: readonly SerializedEvent[]): void {
    if (this.closed || entries.length === 0) return;
    this.enqueue(
      entries.length === 1
        ? (entries[0] as SerializedEvent).frame
        : Buffer.concat(entries.map((entry) => entry.frame)),
    );
  }

  /** {@link HubReader} */
  sendReset(_reason: string, _position: string, frame: Buffer): void {
    if (!this.closed) this.enqueue(frame);
  }

  /** {@link HubReader}: the tick's joined bytes, written now when nothing else waits. */
  sendLive(joined: Buffer, _items: readonly TickItem[], now: number): void {
    if (this.closed) return;
    if (!this.opened || this.blocked || this.chunks !== undefined) this.enqueue(joined);
    else this.write(joined, now);
  }

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
    if (this.chunks) this.chunks.unshift(preamble);
    else this.chunks = [preamble];
    this.pendingBytes += preamble.length;
    this.write(this.takeChunks(undefined), now);
  }

  /** Queues raw bytes for this tick's write. */
  enqueue(bytes: Buffer): void {
    if (this.chunks) this.chunks.push(bytes);
    else this.chunks = [bytes];
    this.pendingBytes += bytes.length;
    if (this.blocked) {
      if (this.unsentBytes > this.host.maxBufferedBytes) this.close('backpressure');
    } else if (this.opened) this.host.schedule(this);
  }

  /** Writes the bytes gathered this tick in one `write()`. */
  flush(joiner: ChunkJoiner, now: number): void {
    if (this.closed || !this.opened || this.blocked || this.chunks === undefined) return;
    this.write(this.takeChunks(joiner), now);
  }

  /** Writes `comment` if nothing was written for `idleMs` and nothing waits. True when written. */
  heartbeat(comment: Buffer, now: number, idleMs: number): boolean {
    if (this.closed || !this.opened || this.blocked || this.chunks !== undefined) return false;
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
    const rest = this.chunks === undefined ? undefined : this.takeChunks(undefined);
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
    const chunks = this.chunks as Buffer[];
    const data =
      chunks.length === 1
        ? (chunks[0] as Buffer)
        : joiner
          ? joiner.join(chunks, this.pendingBytes)
          : Buffer.concat(chunks, this.pendingBytes);
    this.chunks = undefined;
    this.pendingBytes = 0;
    return data;
  }

  private readonly onDrain: () => void;
  private readonly onResponseClose: () => void;

  private drained(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.blockedBytes = 0;
    if (!this.closed && this.chunks !== undefined) this.host.schedule(this);
  }

  private responseClosed(): void {
    if (this.closed) return;
    this.finish('client');
  }

  private finish(reason: StreamCloseReason): void {
    this.closed = true;
    this.closeReason = reason;
    this.chunks = undefined;
    this.pendingBytes = 0;
    this.host.streamClosed(this, reason);
  }
}
