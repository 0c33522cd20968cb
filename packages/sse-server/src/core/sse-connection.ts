import type { Deadline } from './deadline-queue';
import type { ChunkJoiner, Flushable } from './flush-queue';
import type { SerializedEvent } from './frame-window';
import type { HubReader, ReaderHub, ReaderOwner, ResetItem, TickItem } from './hub-reader';
import type { ResponseSink } from './response-sink';

/** Why a stream ended. */
export type StreamCloseReason =
  | 'client'
  | 'backpressure'
  | 'write_timeout'
  | 'token_expired'
  | 'shutdown'
  | 'max_duration'
  | 'error';

/**
 * Most queued bytes one flush writes: a replay goes out in slices of this size, the next one when
 * the socket took the previous (a slow reader shows progress at every slice).
 */
const SLICE_BYTES = 64 * 1024;
/** Up to this many bytes a slice of several chunks is joined (shared by connections queuing the same chunks); above, its chunks are written as they are (shared bytes, no copy). */
const JOIN_LIMIT = 16 * 1024;
/** What HTTP/1.1 chunked encoding may add per written chunk (hex length and two CRLFs). */
const CHUNK_FRAMING = 16;

/** What a connection needs from the handler that owns it. */
export interface StreamHost extends ReaderOwner {
  /** Unsent bytes a connection may hold: replays stop at it, live bytes past it close the stream. */
  readonly maxBufferedBytes: number;
  /** A blocked connection whose socket accepts nothing for this long is closed. */
  readonly writeTimeoutMs: number;
  /** Queues a flush at the end of this tick. */
  schedule(item: Flushable): void;
  /** The last bytes of a stream ended for `maxDurationMs`: a `retry:` line. */
  readonly farewell: Buffer;
  /** Called exactly once when the connection is done (after it left its hub). */
  streamClosed(connection: SseConnection, reason: StreamCloseReason): void;
}

/**
 * One SSE response, served by its topic's hub. In step, the hub's joined tick bytes are written
 * straight away (one `write()` per tick, the same buffer for every connection); frames meant for
 * this connection alone (replay, catch-up) are queued and written once per tick.
 *
 * Unsent bytes (queued here plus buffered by Node) never pass `maxBufferedBytes` after a write:
 * a replay or catch-up takes frames only while they fit, then the connection **pauses** (it leaves
 * its hub's live set and any catch-up, holding only its position) and, once its socket drains,
 * rejoins its hub from that position: served from the window, or from a catch-up read. Live bytes
 * that would pass the cap close the connection for backpressure (the client resumes from its last
 * event id), and a socket that accepts nothing for `writeTimeoutMs` is closed too. An idle
 * connection holds no arrays.
 */
export class SseConnection implements Flushable, Deadline, HubReader {
  /** @internal flush-queue state */
  queued = false;
  /** @internal deadline-queue state: when the credentials expire or `maxDurationMs` ends it */
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
  /** @internal the key it counts against for `maxConnectionsPerKey` */
  connectionKey: string | undefined = undefined;
  /** True once closed; nothing is written after. */
  closed = false;
  /** Why it closed, once closed. */
  closeReason: StreamCloseReason | undefined;
  /** Time of the last write (ms since epoch), for heartbeats. */
  lastWriteAt = 0;

  /** True once the status line and headers went out. */
  opened = false;
  /**
   * {@link HubReader}: the replay reached `maxBufferedBytes`; the connection waits for its socket
   * to drain, then rejoins its hub after {@link position}.
   */
  paused = false;
  /** The position of the last event (or reset) queued to this connection. */
  position: string | undefined = undefined;

  private chunks: Buffer[] | undefined = undefined;
  private pendingBytes = 0;
  private blocked = false;
  private blockedBytes = 0;
  /** While blocked: when the socket last accepted bytes, and how many Node held then. */
  private stalledSince = 0;
  private stallMark = 0;
  /** When `maxDurationMs` ends the stream (ms since epoch). */
  private endsAt = Number.POSITIVE_INFINITY;

  /** Enters `hub` at once; leaves it when closed. */
  constructor(
    readonly res: ResponseSink,
    readonly hub: ReaderHub,
    private readonly host: StreamHost,
  ) {
    hub.enter();
    // Assigned here, not as class fields: a class-field arrow function carries its own `name`
    // property (a ~256-byte property array per function, per connection).
    this.onDrain = () => this.drained();
    this.onResponseClose = () => this.responseClosed();
    this.flushes = typeof res.flush === 'function';
    res.on('close', this.onResponseClose);
  }

  /** {@link HubReader}: the handler. */
  get owner(): ReaderOwner {
    return this.host;
  }

  /**
   * Sets when the stream ends: `expiresAt` (credentials) closes it as `token_expired`, `endsAt`
   * (`maxDurationMs`) ends it cleanly with a `retry:` line, whichever comes first. Returns true
   * when either is finite (the caller queues the deadline).
   */
  limitLifetime(expiresAt: number, endsAt: number): boolean {
    this.endsAt = endsAt;
    this.deadline = Math.min(expiresAt, endsAt);
    return Number.isFinite(this.deadline);
  }

  /** {@link HubReader}: true once closed. */
  get gone(): boolean {
    return this.closed;
  }

  /** {@link HubReader}: queued when it fits under `maxBufferedBytes`, else the connection pauses. */
  sendEvent(entry: SerializedEvent): void {
    if (this.closed || this.paused) return;
    if (!this.fits(entry.frame.length)) {
      this.pause();
      return;
    }
    this.position = entry.position;
    this.enqueue(entry.frame);
  }

  /** {@link HubReader}: the frames that fit, each shared (never copied here); then it pauses. */
  sendEvents(entries: readonly SerializedEvent[]): void {
    for (const entry of entries) {
      if (this.closed || this.paused) return;
      this.sendEvent(entry);
    }
  }

  /** {@link HubReader} */
  sendReset(item: ResetItem): void {
    if (this.closed || this.paused) return;
    this.position = item.position;
    this.enqueue(item.frame);
  }

  /** {@link HubReader}: the tick's joined bytes, written now when nothing else waits. */
  sendLive(joined: Buffer, items: readonly TickItem[], now: number): void {
    if (this.closed || this.paused) return;
    this.position = (items[items.length - 1] as TickItem).position;
    if (!this.opened || this.blocked || this.chunks !== undefined) this.enqueue(joined);
    else this.writeOne(joined, now);
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
    this.write(this.takeSlice(undefined), now);
    if (this.closed || this.blocked) return;
    if (this.chunks !== undefined) this.host.schedule(this);
    else this.resumeIfDrained();
  }

  /**
   * Checked by the handler's shared timer: a blocked connection whose socket accepted nothing for
   * `writeTimeoutMs` is closed. True when it was.
   */
  checkStalled(now: number): boolean {
    if (this.closed || !this.blocked) return false;
    const inNode = this.res.writableLength;
    if (typeof inNode === 'number' && inNode < this.stallMark) {
      this.stallMark = inNode;
      this.stalledSince = now;
      return false;
    }
    if (now - this.stalledSince < this.host.writeTimeoutMs) return false;
    this.close('write_timeout');
    return true;
  }

  /**
   * Queues raw bytes for this tick's write. Once open, bytes that take the unsent total past
   * `maxBufferedBytes` close the stream (replayed frames never do: they are checked before).
   */
  enqueue(bytes: Buffer): void {
    if (this.chunks) this.chunks.push(bytes);
    else this.chunks = [bytes];
    this.pendingBytes += bytes.length;
    if (!this.opened) return;
    if (this.unsentBytes > this.host.maxBufferedBytes) this.close('backpressure');
    else if (!this.blocked) this.host.schedule(this);
  }

  /** Queues the stream's last bytes (no backpressure check: it ends right after). */
  private enqueueLast(bytes: Buffer): void {
    if (this.chunks) this.chunks.push(bytes);
    else this.chunks = [bytes];
    this.pendingBytes += bytes.length;
  }

  /** True when `bytes` more stay within `maxBufferedBytes` (or nothing is unsent at all). */
  private fits(bytes: number): boolean {
    const unsent = this.unsentBytes;
    const framing = ((this.chunks?.length ?? 0) + 1) * CHUNK_FRAMING;
    return unsent === 0 || unsent + framing + bytes <= this.host.maxBufferedBytes;
  }

  /** Stops taking replayed frames: out of the hub's live set and catch-ups until drained. */
  private pause(): void {
    this.paused = true;
    this.hub.pauseReader(this);
    this.placed?.(); // placed all the same: the stream opens with what it has
  }

  /** Rejoins the hub after {@link position} once the socket takes bytes again. */
  private resumeIfDrained(): void {
    if (!this.paused || this.closed || !this.opened || this.blocked || this.chunks !== undefined) return;
    this.paused = false;
    this.hub.rejoin(this, this.position ?? (this.resumeFrom as string));
  }

  /** Writes the bytes gathered this tick in one `write()`. */
  flush(joiner: ChunkJoiner, now: number): void {
    if (this.closed || !this.opened || this.blocked || this.chunks === undefined) return;
    this.write(this.takeSlice(joiner), now);
    if (this.closed || this.blocked) return;
    if (this.chunks !== undefined)
      this.host.schedule(this); // the next slice, next tick
    else this.resumeIfDrained();
  }

  /** Writes `comment` if nothing was written for `idleMs` and nothing waits. True when written. */
  heartbeat(comment: Buffer, now: number, idleMs: number): boolean {
    if (this.closed || !this.opened || this.blocked || this.chunks !== undefined) return false;
    if (now - this.lastWriteAt < idleMs) return false;
    this.writeOne(comment, now);
    return true;
  }

  /** @internal the credentials expired, or the stream reached its duration */
  onDeadline(): void {
    this.close(this.deadline === this.endsAt ? 'max_duration' : 'token_expired');
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
    if (reason === 'backpressure' || reason === 'write_timeout' || reason === 'error' || this.blocked) {
      this.finish(reason);
      this.res.destroy();
      return;
    }
    if (reason === 'max_duration') this.enqueueLast(this.host.farewell);
    const rest = this.chunks === undefined ? undefined : Buffer.concat(this.chunks, this.pendingBytes);
    this.finish(reason);
    if (rest) this.res.end(rest);
    else this.res.end();
  }

  /**
   * Writes `data` (corked into one send when several). Afterwards the unsent bytes must be within
   * `maxBufferedBytes`, unless nothing was unsent before (a single frame or tick larger than the cap
   * still goes out alone); otherwise the connection is closed for backpressure.
   */
  private write(data: readonly Buffer[], now: number): void {
    if (data.length === 1) {
      this.writeOne(data[0] as Buffer, now);
      return;
    }
    this.lastWriteAt = now;
    const res = this.res;
    const before = res.writableLength;
    let ok = true;
    let bytes = 0;
    res.cork?.();
    for (const chunk of data) {
      ok = res.write(chunk) && ok;
      bytes += chunk.length;
    }
    res.uncork?.();
    this.wrote(ok, bytes, before, now);
  }

  /** {@link write} of one chunk (a live tick's: no array per write). */
  private writeOne(chunk: Buffer, now: number): void {
    this.lastWriteAt = now;
    const res = this.res;
    // Read once: it is a getter (Node's walks to the socket's state; a Fetch body's asks its queue).
    const before = res.writableLength;
    this.wrote(res.write(chunk), chunk.length, before, now);
  }

  /** After a write: flush (`compression()`), note backpressure, check the cap. */
  private wrote(ok: boolean, bytes: number, before: number | undefined, now: number): void {
    const res = this.res;
    if (this.flushes) res.flush?.();
    if (!ok) {
      this.blocked = true;
      this.blockedBytes = bytes;
      this.stalledSince = now;
      const inNode = res.writableLength;
      this.stallMark = typeof inNode === 'number' ? inNode : bytes;
    }
    if ((before ?? 0) > 0 && this.unsentBytes > this.host.maxBufferedBytes) this.close('backpressure');
  }

  /**
   * The next slice of the queue (at least one chunk, at most {@link SLICE_BYTES} otherwise); the rest
   * stays queued. Small slices of several chunks are joined (the joiner shares the result between
   * connections queuing the very same chunks), larger ones are written chunk by chunk.
   */
  private takeSlice(joiner: ChunkJoiner | undefined): Buffer[] {
    const chunks = this.chunks as Buffer[];
    let count = 0;
    let bytes = 0;
    while (count < chunks.length) {
      const size = (chunks[count] as Buffer).length;
      if (count > 0 && bytes + size > SLICE_BYTES) break;
      bytes += size;
      count++;
    }
    let slice = chunks;
    if (count === chunks.length) {
      this.chunks = undefined;
      this.pendingBytes = 0;
    } else {
      slice = chunks.slice(0, count);
      this.chunks = chunks.slice(count);
      this.pendingBytes -= bytes;
    }
    if (slice.length === 1 || bytes > JOIN_LIMIT) return slice;
    return [joiner ? joiner.join(slice, bytes) : Buffer.concat(slice, bytes)];
  }

  private readonly onDrain: () => void;
  private readonly onResponseClose: () => void;
  /**
   * The response has `flush` (added by `compression()` before the handler runs): looked up once per
   * stream, not on every write (Node's own responses have none).
   */
  private readonly flushes: boolean;

  private drained(): void {
    if (!this.blocked) return;
    this.blocked = false;
    this.blockedBytes = 0;
    if (this.closed) return;
    if (this.chunks !== undefined) this.host.schedule(this);
    else this.resumeIfDrained();
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
    this.hub.leave(this);
    this.host.streamClosed(this, reason);
  }
}
