import { isRepoPulseError, type Subscription } from '@repopulse/events-core';
import { assertTopic, requireOption } from '@repopulse/events-core/bus-kit';
import { encodeSseComment, encodeSseRetry } from '@repopulse/events-core/wire';
import { isStreamHttpError, StreamHttpError } from '../errors';
import { authenticate, type Grant } from './authenticate';
import { DeadlineQueue } from './deadline-queue';
import { FlushQueue } from './flush-queue';
import { HeartbeatTimer } from './heartbeat';
import { sendJsonError, toHttpError } from './json-response';
import { LongPoll, type LongPollEnd, type LongPollHost } from './long-poll';
import { eventStreamTelemetry } from './metrics';
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
   * Drains: answers waiting long-polls, and ends every stream, spread over `graceMs`. Meanwhile a
   * new SSE request gets 200 with the `retry:` line and an immediate clean end (so even a native
   * `EventSource` reconnects, e.g. to another instance), a new long-poll 503 `shutting_down` with
   * `Retry-After`. Resolves once all are closed. Does not close the bus.
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
const sseHeaders = (req: NodeRequest) => (req.httpVersionMajor >= 2 ? SSE_HEADERS : SSE_HEADERS_HTTP1);

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
  if (options.tokenSecret !== undefined) checkTokenSecret('createEventStreamHandler', options.tokenSecret);
  const { bus, onError } = options;
  const preamble = Buffer.from(encodeSseRetry(options.retryMs) + encodeSseComment('ok'), 'utf8');
  const retryAfter = String(Math.max(1, Math.ceil(options.retryMs / 1000)));
  const flushQueue = new FlushQueue();
  const telemetry = eventStreamTelemetry(() => core.stats());
  const registry = new TopicRegistry({
    bus,
    telemetry: telemetry?.hub,
    limits: { events: options.windowEvents, bytes: options.windowBytes },
    schedule: (item) => flushQueue.add(item),
    release: (subscription) => release(subscription),
    catchUpStarted: () => {
      counters.catchUpReads++;
    },
  });
  const deadlines = new DeadlineQueue();
  const polls = new Set<LongPoll>();
  const counters = new StatsCounters();
  let streams = 0;
  /** Streams + long-polls + requests between the limit check and their end. */
  let active = 0;
  /** The same, per connection key (see `connectionKey`); keys at 0 are deleted. */
  const activeByKey = new Map<string, number>();
  let closing = false;
  let closed: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;
  let busClosedReported = false;

  // One timer: heartbeats to idle streams, and closing streams whose socket stalled.
  const heartbeat = new HeartbeatTimer(Math.min(options.heartbeatMs, options.writeTimeoutMs), (now) => {
    for (const hub of registry.values()) {
      for (const connection of hub.connections) {
        if (connection.checkStalled(now)) continue;
        if (connection.heartbeat(HEARTBEAT, now, options.heartbeatMs)) counters.heartbeats++;
      }
    }
  });

  function release(subscription: Subscription): void {
    subscription.unsubscribe().catch(onError);
  }

  const settle = (key?: string) => {
    if (key !== undefined) {
      const left = (activeByKey.get(key) ?? 1) - 1;
      if (left > 0) activeByKey.set(key, left);
      else activeByKey.delete(key);
    }
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
    writeTimeoutMs: options.writeTimeoutMs,
    schedule: (item) => flushQueue.add(item),
    streamClosed(connection: Connection, reason: StreamCloseReason) {
      const { hub } = connection;
      hub.connections.delete(connection);
      hub.detach(connection);
      registry.release(hub);
      deadlines.remove(connection);
      if (connection.opened) {
        streams--;
        if (reason === 'backpressure') counters.closedForBackpressure++;
        else if (reason === 'write_timeout') counters.closedForWriteTimeout++;
        else if (reason === 'token_expired') counters.closedForTokenExpiry++;
        else if (reason === 'client') counters.closedByClient++;
        else if (reason === 'shutdown') counters.closedForShutdown++;
      }
      if (streams === 0) heartbeat.stop();
      settle(connection.connectionKey);
    },
  };

  const pollHost: LongPollHost = {
    maxEvents: options.longPollMaxEvents,
    maxBytes: options.longPollMaxBytes,
    schedule: (item) => flushQueue.add(item),
    longPollDone(poll: LongPoll, end: LongPollEnd) {
      polls.delete(poll);
      deadlines.remove(poll);
      poll.hub.detach(poll);
      registry.release(poll.hub);
      if (end === 'answered' || end === 'timeout' || end === 'shutdown') counters.totalLongPolls++;
      settle(poll.connectionKey);
    },
  };

  /** A failed bus call: reported to `onError` (a closed bus once), answered 503. */
  const unavailable = (error: unknown) => {
    const closedBus = isRepoPulseError(error, 'bus_closed');
    if (!closedBus || !busClosedReported) onError(error);
    if (closedBus) busClosedReported = true;
    return new StreamHttpError(
      503,
      closedBus ? 'bus_closed' : 'bus_unavailable',
      closedBus ? 'the event bus is closed' : 'the event bus is unavailable',
      { cause: error, headers: { 'Retry-After': retryAfter } },
    );
  };

  async function openStream(
    req: Req,
    res: NodeResponse,
    topic: string,
    after: string | undefined,
    grant: Grant,
    key: string | undefined,
  ): Promise<void> {
    const hub = registry.acquire(topic);
    const connection = new SseConnection(res, hub, streamHost);
    connection.connectionKey = key;
    hub.connections.add(connection);
    try {
      await hub.attach(connection, after);
    } catch (error) {
      const stillWanted = !connection.closed;
      connection.close('error');
      if (stillWanted) throw unavailable(error);
      return;
    }
    if (connection.closed) return; // the client left
    if (closing) {
      connection.close('shutdown');
      drain(req, res);
      return;
    }
    if (res.headersSent) {
      // Another middleware already answered: nothing to stream into.
      connection.close('error');
      throw new Error('[repopulse] sse-express: response headers were already sent');
    }
    streams++;
    counters.totalStreams++;
    if (Number.isFinite(grant.expiresAt)) {
      connection.deadline = grant.expiresAt;
      deadlines.add(connection);
    }
    connection.open(sseHeaders(req), preamble, Date.now());
    heartbeat.start();
  }

  async function openLongPoll(
    res: NodeResponse,
    topic: string,
    after: string | undefined,
    waitMs: number,
    grant: Grant,
    key: string | undefined,
  ): Promise<void> {
    const hub = registry.acquire(topic);
    const poll = new LongPoll(res, hub, pollHost);
    poll.connectionKey = key;
    polls.add(poll);
    try {
      // Without `after`, from the hub's head.
      await hub.attach(poll, after);
    } catch (error) {
      const stillWanted = !poll.done;
      poll.abandon();
      if (stillWanted) throw unavailable(error);
      return;
    }
    if (poll.done) return;
    if (closing) {
      poll.answer('shutdown');
      return;
    }
    const now = Date.now();
    // Never past the credentials: a poll is answered (empty) when its token expires.
    if (poll.start(now, Math.min(waitMs, grant.expiresAt - now))) deadlines.add(poll);
  }

  /** The key a request counts against for `maxConnectionsPerKey` (default: the token's `sub`). */
  function connectionKeyOf(req: Req, grant: Grant, topic: string, transport: Transport): string | undefined {
    if (options.connectionKey) return options.connectionKey(req, { topic, token: grant.token, transport });
    const sub = grant.token?.sub;
    return typeof sub === 'string' ? sub : undefined;
  }

  /** While closing, an SSE request gets 200 + `retry:` and a clean end: EventSource reconnects. */
  function drain(req: Req, res: NodeResponse): void {
    counters.drained++;
    res.writeHead(200, sseHeaders(req));
    res.end(preamble);
  }

  function shuttingDown() {
    return new StreamHttpError(503, 'shutting_down', 'the server is shutting down', {
      headers: { 'Retry-After': retryAfter },
    });
  }

  async function handle(req: Req, res: NodeResponse, onUnexpected?: UnexpectedErrorHandler): Promise<void> {
    let gone = false;
    // Only while the request is being set up: an idle stream must not keep this frame (req, res,
    // Express's `next`) alive through the listener.
    const markGone = () => {
      gone = true;
    };
    res.on('close', markGone);
    try {
      if (closing && (req.method ?? 'GET') === 'GET' && transportOf(req) === 'sse') return drain(req, res);
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
      if (closing && method === 'GET' && transport === 'sse') return drain(req, res);
      if (closing) throw shuttingDown();
      if (active >= options.maxConnections) {
        throw new StreamHttpError(503, 'too_many_connections', 'too many connections, retry later', {
          headers: { 'Retry-After': retryAfter },
        });
      }
      const key = connectionKeyOf(req, grant, topic, transport);
      if (key !== undefined && (activeByKey.get(key) ?? 0) >= options.maxConnectionsPerKey) {
        throw new StreamHttpError(
          429,
          'too_many_connections_per_key',
          'too many connections for this user, retry later',
          { headers: { 'Retry-After': retryAfter } },
        );
      }
      if (method === 'HEAD') {
        res.writeHead(
          200,
          transport === 'sse'
            ? sseHeaders(req)
            : { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
        );
        res.end();
        return;
      }
      active++; // given back when the stream or poll ends (see settle)
      if (key !== undefined) activeByKey.set(key, (activeByKey.get(key) ?? 0) + 1);
      if (transport === 'sse') await openStream(req, res, topic, sseResumePoint(req, query), grant, key);
      else await openLongPoll(res, topic, longPollAfter(query), waitMs, grant, key);
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
    } finally {
      res.removeListener('close', markGone);
    }
  }

  function closeAll(graceMs: number): void {
    for (const poll of [...polls]) if (poll.started) poll.answer('shutdown');
    const list: Connection[] = [];
    for (const hub of registry.values()) for (const connection of hub.connections) list.push(connection);
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

  const core: EventStreamCore<Req> = {
    handle,
    close(closeOptions: CloseOptions = {}) {
      if (closed) return closed;
      const graceMs = closeOptions.graceMs ?? 0;
      try {
        requireOption(
          'close',
          'graceMs',
          typeof graceMs === 'number' && graceMs >= 0,
          'a non-negative number',
          graceMs,
        );
      } catch (error) {
        return Promise.reject(error);
      }
      closing = true;
      telemetry?.dispose();
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
      for (const hub of registry.values()) {
        for (const connection of hub.connections) bufferedBytes += connection.unsentBytes;
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
  return core;
}
