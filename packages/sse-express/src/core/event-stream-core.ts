import { assertTopic, encodeSseComment, encodeSseRetry, type Subscription } from '@repopulse/events-core';
import { isStreamHttpError, StreamHttpError } from '../errors';
import { authenticate, type Grant } from './authenticate';
import { DeadlineQueue } from './deadline-queue';
import { FlushQueue } from './flush-queue';
import { HeartbeatTimer } from './heartbeat';
import { sendJsonError, toHttpError } from './json-response';
import { LongPoll, type LongPollEnd, type LongPollHost } from './long-poll';
import type { NodeResponse } from './node-response';
import { type EventStreamOptions, resolveOptions } from './options';
import {
  longPollAfter,
  longPollWaitMs,
  type NodeRequest,
  queryOf,
  sseResumePoint,
  type Transport,
  transportOf,
} from './request-info';
import {
  type SseConnection as Connection,
  SseConnection,
  type StreamCloseReason,
  type StreamHost,
} from './sse-connection';
import { type EventStreamStats, StatsCounters } from './stats';
import { checkTokenSecret } from './stream-token';
import { TopicRegistry } from './topic-registry';

/** Options of {@link EventStreamCore.close}. */
export interface CloseOptions {
  /**
   * Spread the ends of open streams evenly over this many milliseconds, so clients do not all
   * reconnect (to another instance) in one wave. Waiting long-polls are answered at once.
   * @default 0 (end everything now)
   */
  graceMs?: number;
}

/** Called for an error that is not a `StreamHttpError`, instead of answering 500 itself. */
export type UnexpectedErrorHandler = (error: unknown) => void;

/** The framework-neutral handler: serve requests with {@link handle}, shut down with {@link close}. */
export interface EventStreamCore<Req extends NodeRequest = NodeRequest> {
  /**
   * Serves one request: an SSE stream (`Accept: text/event-stream`, the default) or a JSON
   * long-poll (`Accept: application/json`), or a JSON error before any stream byte. Never rejects.
   * @param onUnexpected receives errors that are not `StreamHttpError` (default: answer 500)
   */
  handle(req: Req, res: NodeResponse, onUnexpected?: UnexpectedErrorHandler): Promise<void>;
  /**
   * Refuses new requests (503 `shutting_down`), answers waiting long-polls, and ends every
   * stream, spread over `graceMs`. Resolves once all are closed. Does not close the bus.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Counts of open connections and of what happened so far. */
  stats(): EventStreamStats;
}

const SSE_HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  'X-Accel-Buffering': 'no',
};
const SSE_HEADERS_HTTP1 = { ...SSE_HEADERS, Connection: 'keep-alive' };
const HEARTBEAT = Buffer.from(encodeSseComment(), 'utf8');
const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Creates the framework-neutral event-stream handler over Node's `IncomingMessage` /
 * `ServerResponse` (HTTP/2 compat objects work too). `createEventStreamHandler` wraps it for
 * Express.
 *
 * @example
 * ```ts
 * const core = createEventStreamCore({ bus, topic: 'repos' });
 * http.createServer((req, res) => void core.handle(req, res)).listen(3000);
 * ```
 */
export function createEventStreamCore<Req extends NodeRequest = NodeRequest>(
  userOptions: EventStreamOptions<Req>,
): EventStreamCore<Req> {
  const options = resolveOptions(userOptions);
  if (options.tokenSecret !== undefined) checkTokenSecret(options.tokenSecret);
  const { bus, onError } = options;
  const preamble = Buffer.from(encodeSseRetry(options.retryMs) + encodeSseComment('ok'), 'utf8');
  const retryAfter = String(Math.max(1, Math.ceil(options.retryMs / 1000)));
  const registry = new TopicRegistry();
  const flushQueue = new FlushQueue();
  const deadlines = new DeadlineQueue();
  const polls = new Set<LongPoll>();
  const counters = new StatsCounters();
  let streams = 0;
  /** Streams + long-polls + requests between the limit check and their end. */
  let active = 0;
  let closing = false;
  let closed: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;

  const heartbeat = new HeartbeatTimer(options.heartbeatMs, (now) => {
    for (const group of registry.values()) {
      for (const connection of group.connections) {
        if (connection.heartbeat(HEARTBEAT, now, options.heartbeatMs)) counters.heartbeats++;
      }
    }
  });

  const release = (subscription: Subscription | undefined) => {
    subscription?.unsubscribe().catch(onError);
  };

  const settle = () => {
    active--;
    if (closing && active === 0) {
      heartbeat.stop();
      deadlines.clear();
      flushQueue.dispose();
      resolveClosed?.();
    }
  };

  const streamHost: StreamHost = {
    maxBufferedBytes: options.maxBufferedBytes,
    schedule: (item) => flushQueue.add(item),
    streamClosed(connection: Connection, reason: StreamCloseReason) {
      const { group } = connection;
      group.connections.delete(connection);
      registry.release(group);
      deadlines.remove(connection);
      release(connection.subscription);
      if (connection.subscription) {
        streams--;
        if (reason === 'backpressure') counters.closedForBackpressure++;
        else if (reason === 'token_expired') counters.closedForTokenExpiry++;
        else if (reason === 'client') counters.closedByClient++;
        else if (reason === 'shutdown') counters.closedForShutdown++;
      }
      if (streams === 0) heartbeat.stop();
      settle();
    },
  };

  const pollHost: LongPollHost = {
    schedule: (item) => flushQueue.add(item),
    longPollDone(poll: LongPoll, end: LongPollEnd) {
      polls.delete(poll);
      deadlines.remove(poll);
      registry.release(poll.group);
      release(poll.subscription);
      if (end === 'answered' || end === 'timeout' || end === 'shutdown') counters.totalLongPolls++;
      settle();
    },
  };

  /** A failed bus call: reported to `onError`, answered 503. */
  const unavailable = (error: unknown) => {
    onError(error);
    return new StreamHttpError(503, 'bus_unavailable', 'the event bus is unavailable', {
      cause: error,
      headers: { 'Retry-After': retryAfter },
    });
  };

  async function openStream(
    req: Req,
    res: NodeResponse,
    topic: string,
    after: string | undefined,
    grant: Grant,
  ): Promise<void> {
    const group = registry.acquire(topic);
    const connection = new SseConnection(res, group, streamHost);
    group.connections.add(connection);
    let subscription: Subscription;
    try {
      subscription = await bus.subscribe(topic, connection.deliver, after === undefined ? {} : { after });
    } catch (error) {
      const stillWanted = !connection.closed;
      connection.close('error');
      if (stillWanted) throw unavailable(error);
      return;
    }
    if (closing && !connection.closed) connection.close('shutdown');
    if (connection.closed) {
      release(subscription);
      if (connection.closeReason === 'shutdown') throw shuttingDown();
      if (connection.closeReason === 'error') {
        throw new Error('[repopulse] sse-express: a replayed event could not be framed');
      }
      return; // the client left
    }
    if (res.headersSent) {
      // Another middleware already answered: nothing to stream into.
      connection.close('error');
      release(subscription);
      throw new Error('[repopulse] sse-express: response headers were already sent');
    }
    connection.subscription = subscription;
    streams++;
    counters.totalStreams++;
    if (Number.isFinite(grant.expiresAt)) {
      connection.deadline = grant.expiresAt;
      deadlines.add(connection);
    }
    connection.open(req.httpVersionMajor >= 2 ? SSE_HEADERS : SSE_HEADERS_HTTP1, preamble, Date.now());
    heartbeat.start();
  }

  async function openLongPoll(
    res: NodeResponse,
    topic: string,
    after: string | undefined,
    waitMs: number,
  ): Promise<void> {
    const poll = new LongPoll(res, registry.acquire(topic), pollHost);
    polls.add(poll);
    let subscription: Subscription;
    try {
      // Without `after`, start from the head: read it, then subscribe after it (no race).
      const start = after ?? (await bus.head(topic));
      if (poll.done) return;
      poll.resumeFrom(start);
      subscription = await bus.subscribe(topic, poll.deliver, { after: start });
    } catch (error) {
      const stillWanted = !poll.done;
      poll.abandon();
      if (stillWanted) throw unavailable(error);
      return;
    }
    if (poll.done) {
      release(subscription);
      return;
    }
    poll.subscription = subscription;
    if (closing) poll.answer('shutdown');
    else if (poll.start(Date.now(), waitMs)) deadlines.add(poll);
  }

  function shuttingDown() {
    return new StreamHttpError(503, 'shutting_down', 'the server is shutting down', {
      headers: { 'Retry-After': retryAfter },
    });
  }

  async function handle(req: Req, res: NodeResponse, onUnexpected?: UnexpectedErrorHandler): Promise<void> {
    let gone = false;
    res.on('close', () => {
      gone = true;
    });
    try {
      if (closing) throw shuttingDown();
      const method = req.method ?? 'GET';
      if (method !== 'GET' && method !== 'HEAD') {
        throw new StreamHttpError(405, 'method_not_allowed', `${method} is not allowed here`, {
          headers: { Allow: ALLOWED_METHODS },
        });
      }
      const transport: Transport = transportOf(req);
      const query = queryOf(req);
      const topic = await options.topic(req);
      try {
        assertTopic(topic);
      } catch (cause) {
        throw new StreamHttpError(400, 'invalid_topic', 'invalid topic', { cause });
      }
      const waitMs = transport === 'long-poll' ? longPollWaitMs(query, options.longPollWaitMs) : 0;
      const grant = await authenticate(options, req, query, topic, transport);
      if (gone) return;
      if (closing) throw shuttingDown();
      if (active >= options.maxConnections) {
        throw new StreamHttpError(503, 'too_many_connections', 'too many connections, retry later', {
          headers: { 'Retry-After': retryAfter },
        });
      }
      if (method === 'HEAD') {
        res.writeHead(
          200,
          transport === 'sse'
            ? req.httpVersionMajor >= 2
              ? SSE_HEADERS
              : SSE_HEADERS_HTTP1
            : { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
        );
        res.end();
        return;
      }
      active++; // given back when the stream or poll ends (see settle)
      if (transport === 'sse') await openStream(req, res, topic, sseResumePoint(req, query), grant);
      else await openLongPoll(res, topic, longPollAfter(query), waitMs);
    } catch (error) {
      if (!isStreamHttpError(error)) {
        if (onUnexpected && !res.headersSent && !gone) {
          onUnexpected(error);
          return;
        }
        onError(error);
      }
      if (gone || res.headersSent) {
        if (!res.writableEnded) res.destroy();
        return;
      }
      counters.rejected++;
      sendJsonError(res, toHttpError(error));
    }
  }

  function closeAll(graceMs: number): void {
    for (const poll of [...polls]) if (poll.started) poll.answer('shutdown');
    const list: Connection[] = [];
    for (const group of registry.values()) for (const connection of group.connections) list.push(connection);
    const n = list.length;
    if (!(graceMs > 0) || n <= 1) {
      for (const connection of list) connection.close('shutdown');
      return;
    }
    const startedAt = Date.now();
    let next = 0;
    const step = () => {
      const elapsed = Date.now() - startedAt;
      // Stream k ends at graceMs * k / n: the first now, the last just before graceMs.
      const due = Math.min(n, Math.floor((elapsed * n) / graceMs) + 1);
      while (next < due) (list[next++] as Connection).close('shutdown');
      if (next < n) setTimeout(step, Math.max(1, startedAt + (graceMs * next) / n - Date.now()));
    };
    step();
  }

  return {
    handle,
    close(closeOptions: CloseOptions = {}) {
      if (closed) return closed;
      const graceMs = closeOptions.graceMs ?? 0;
      if (typeof graceMs !== 'number' || !(graceMs >= 0)) {
        return Promise.reject(new RangeError('[repopulse] graceMs must be a non-negative number'));
      }
      closing = true;
      closed = new Promise<void>((resolve) => {
        resolveClosed = resolve;
      });
      active++; // a sentinel so `settle` cannot resolve before every stream was told to close
      closeAll(graceMs);
      settle();
      return closed;
    },
    stats(): EventStreamStats {
      let bufferedBytes = 0;
      for (const group of registry.values()) {
        for (const connection of group.connections) bufferedBytes += connection.unsentBytes;
      }
      return {
        connections: active,
        streams,
        longPolls: polls.size,
        topics: registry.size,
        bufferedBytes,
        ...counters,
        closing,
      };
    },
  };
}
