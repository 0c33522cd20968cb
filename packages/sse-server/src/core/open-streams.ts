import { encodeSseComment, encodeSseRetry } from '@repopulse/events-core/wire';
import type { Grant } from './authenticate';
import { closeSpread } from './graceful-close';
import { HeartbeatTimer } from './heartbeat';
import { ReaderHost } from './reader-host';
import type { RequestView } from './request-view';
import type { ResponseSink } from './response-sink';
import { durationEnd, type ServerParts } from './server-parts';
import { SseConnection, type StreamCloseReason, type StreamHost } from './sse-connection';

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};
const SSE_HEADERS_HTTP1 = { ...SSE_HEADERS, Connection: 'keep-alive' };
const HEARTBEAT = Buffer.from(encodeSseComment(), 'utf8');

/** The SSE response headers (no `Connection` on HTTP/2, where it is forbidden). */
export function sseHeaders(req: RequestView): Record<string, string> {
  return req.httpVersionMajor >= 2 ? SSE_HEADERS : SSE_HEADERS_HTTP1;
}

/** What {@link OpenStreams.open} needs to know about one stream. */
export interface StreamRequest {
  readonly view: RequestView;
  readonly sink: ResponseSink;
  readonly topic: string;
  /** The resume point, `undefined` for the hub's head. */
  readonly after: string | undefined;
  readonly grant: Grant;
  /** The key it counts against for `maxConnectionsPerKey`. */
  readonly key: string | undefined;
}

/** How opening a stream went: `open`, the client `gone`, the server `closing`, or `headers_sent`. */
export type StreamOpening = 'open' | 'gone' | 'closing' | 'headers_sent';

/**
 * One handler's SSE streams: opens them on their topic's hub, writes heartbeats and closes stalled
 * ones on one shared timer, ends them on their deadline (credentials, `maxDurationMs`), and counts
 * why they closed.
 */
export class OpenStreams<Req> extends ReaderHost<Req> implements StreamHost {
  /** Every stream of the handler (opening or open). */
  readonly connections = new Set<SseConnection>();
  /** Open streams (headers sent). */
  opened = 0;
  readonly maxBufferedBytes: number;
  readonly writeTimeoutMs: number;
  /** `retry:` plus the `ok` comment: a stream's first bytes. */
  readonly preamble: Buffer;
  readonly farewell: Buffer;
  /** One timer: heartbeats to idle streams, and closing streams whose socket stalled. */
  private readonly heartbeat: HeartbeatTimer;

  constructor(parts: ServerParts<Req>) {
    super(parts);
    const { options } = parts;
    this.maxBufferedBytes = options.maxBufferedBytes;
    this.writeTimeoutMs = options.writeTimeoutMs;
    this.preamble = Buffer.from(encodeSseRetry(options.retryMs) + encodeSseComment('ok'), 'utf8');
    this.farewell = Buffer.from(encodeSseRetry(options.retryMs), 'utf8');
    this.heartbeat = new HeartbeatTimer(Math.min(options.heartbeatMs, options.writeTimeoutMs), (now) =>
      this.tick(now),
    );
  }

  /**
   * Places a stream on its topic's hub, then sends headers and the preamble. Rejects with a 503
   * `StreamHttpError` when the hub could not subscribe (the stream is closed by then).
   */
  async open(request: StreamRequest, closing: () => boolean): Promise<StreamOpening> {
    const hub = this.hubOf(request.topic);
    const connection = new SseConnection(request.sink, hub, this);
    connection.connectionKey = request.key;
    this.connections.add(connection);
    const ended = () => connection.closed;
    if (
      !(await this.place(hub, connection, request.after, ended, () => connection.close('error'))) ||
      ended()
    )
      return 'gone';
    if (closing()) {
      connection.close('shutdown');
      return 'closing';
    }
    if (request.sink.headersSent) {
      connection.close('error');
      return 'headers_sent';
    }
    this.opened++;
    this.parts.counters.totalStreams++;
    const now = Date.now();
    if (
      connection.limitLifetime(request.grant.expiresAt, durationEnd(this.parts.options.maxDurationMs, now))
    ) {
      this.parts.deadlines.add(connection);
    }
    connection.open(sseHeaders(request.view), this.preamble, now);
    this.heartbeat.start();
    return 'open';
  }

  /** {@link StreamHost}: counts the close and gives the connection's place back. */
  streamClosed(connection: SseConnection, reason: StreamCloseReason): void {
    const { counters } = this.parts;
    this.connections.delete(connection);
    this.parts.deadlines.remove(connection);
    if (connection.opened) {
      this.opened--;
      if (reason === 'backpressure') counters.closedForBackpressure++;
      else if (reason === 'write_timeout') counters.closedForWriteTimeout++;
      else if (reason === 'token_expired') counters.closedForTokenExpiry++;
      else if (reason === 'client') counters.closedByClient++;
      else if (reason === 'shutdown') counters.closedForShutdown++;
      else if (reason === 'max_duration') counters.closedForMaxDuration++;
    }
    if (this.opened === 0) this.heartbeat.stop();
    this.parts.admission.leave(connection.connectionKey, connection.hub.topic);
  }

  /** Ends every stream, spread over `graceMs`. */
  closeAll(graceMs: number): void {
    closeSpread([...this.connections], graceMs, (connection) => connection.close('shutdown'));
  }

  /** Unsent bytes of every stream, summed. */
  get bufferedBytes(): number {
    let bytes = 0;
    for (const connection of this.connections) bytes += connection.unsentBytes;
    return bytes;
  }

  /** Stops the shared timer (the handler closed). */
  stop(): void {
    this.heartbeat.stop();
  }

  private tick(now: number): void {
    const { heartbeatMs } = this.parts.options;
    for (const connection of this.connections) {
      if (connection.checkStalled(now)) continue;
      if (connection.heartbeat(HEARTBEAT, now, heartbeatMs)) this.parts.counters.heartbeats++;
    }
  }
}
