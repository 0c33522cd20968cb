import { isRepoPulseError } from '@repopulse/events-core';
import { assertTopic, requireOption } from '@repopulse/events-core/bus-kit';
import { isStreamHttpError, StreamHttpError } from '../errors';
import { Admission } from './admission';
import { authenticate, type Grant } from './authenticate';
import { DeadlineQueue } from './deadline-queue';
import { sendJsonError, toHttpError } from './json-response';
import { handlerTelemetry } from './metrics';
import { OpenLongPolls } from './open-long-polls';
import { OpenStreams, sseHeaders } from './open-streams';
import { type EventStreamOptions, type OptionsScope, resolveOptions } from './options';
import {
  longPollAfter,
  longPollWaitMs,
  queryOf,
  sseResumePoint,
  type Transport,
  transportOf,
} from './request-info';
import type { RequestView } from './request-view';
import type { ResponseSink } from './response-sink';
import type { ServerParts } from './server-parts';
import { type EventStreamStats, StatsCounters } from './stats';
import { checkTokenSecret } from './stream-token';
import { registryOf } from './topic-registry';

/** Options of a handler's `close()`. */
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

/**
 * The framework-neutral server every adapter wraps: it serves one request given the adapter's
 * {@link RequestView} and {@link ResponseSink}, and hands `req` (the framework's own request) to
 * `topic`, `authorize` and `connectionKey`.
 */
export interface StreamServer<Req> {
  /**
   * Serves one request: an SSE stream (`Accept: text/event-stream`, the default) or a JSON
   * long-poll (`Accept: application/json`), or a JSON error before any stream byte. Never rejects.
   * @param onUnexpected receives errors that are not `StreamHttpError` (default: answer 500)
   */
  serve(
    view: RequestView,
    req: Req,
    sink: ResponseSink,
    onUnexpected?: UnexpectedErrorHandler,
  ): Promise<void>;
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

const ALLOWED_METHODS = 'GET, HEAD';

/**
 * Creates the framework-neutral server. Handlers created on the same bus (by any adapter) share
 * one topic hub per topic. `scope` names the adapter in option errors and logs.
 */
export function createStreamServer<Req>(
  userOptions: EventStreamOptions<Req>,
  scope: OptionsScope,
): StreamServer<Req> {
  const options = resolveOptions(userOptions, scope);
  if (options.tokenSecret !== undefined) checkTokenSecret(scope.factory, options.tokenSecret);
  const retryAfter = String(Math.max(1, Math.ceil(options.retryMs / 1000)));
  const registry = registryOf(options.bus);
  registry.register({ events: options.windowEvents, bytes: options.windowBytes });
  let closing = false;
  let closed: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;
  let busClosedReported = false;
  const admission = new Admission(options.maxConnections, options.maxConnectionsPerKey, retryAfter, () => {
    if (closing && admission.active === 0) {
      streams.stop();
      parts.deadlines.clear();
      resolveClosed?.();
    }
  });
  const parts: ServerParts<Req> = {
    options,
    registry,
    counters: new StatsCounters(),
    deadlines: new DeadlineQueue(),
    admission,
    unavailable: (error) => unavailable(error),
  };
  const streams = new OpenStreams(parts);
  const polls = new OpenLongPolls(parts);
  const isClosing = () => closing;
  const telemetry = handlerTelemetry(() => server.stats());

  /** A failed bus call: reported to `onError` (a closed bus once), answered 503. */
  const unavailable = (error: unknown) => {
    const closedBus = isRepoPulseError(error, 'bus_closed');
    if (!closedBus || !busClosedReported) options.onError(error);
    if (closedBus) busClosedReported = true;
    return new StreamHttpError(
      503,
      closedBus ? 'bus_closed' : 'bus_unavailable',
      closedBus ? 'the event bus is closed' : 'the event bus is unavailable',
      { cause: error, headers: { 'Retry-After': retryAfter } },
    );
  };

  /** While closing, an SSE request gets 200 + `retry:` and a clean end: EventSource reconnects. */
  const drain = (view: RequestView, sink: ResponseSink) => {
    parts.counters.drained++;
    sink.writeHead(200, sseHeaders(view));
    sink.end(streams.preamble);
  };

  const shuttingDown = () =>
    new StreamHttpError(503, 'shutting_down', 'the server is shutting down', {
      headers: { 'Retry-After': retryAfter },
    });

  /** The key a request counts against for `maxConnectionsPerKey` (default: the token's `sub`). */
  const connectionKeyOf = (req: Req, grant: Grant, topic: string, transport: Transport) => {
    if (options.connectionKey) return options.connectionKey(req, { topic, token: grant.token, transport });
    const sub = grant.token?.sub;
    return typeof sub === 'string' ? sub : undefined;
  };

  /** Checks, authenticates and opens; `gone()` tells whether the client left meanwhile. */
  async function admit(view: RequestView, req: Req, sink: ResponseSink, gone: () => boolean): Promise<void> {
    const method = view.method;
    if (closing && method === 'GET' && transportOf(view) === 'sse') return drain(view, sink);
    if (closing) throw shuttingDown();
    if (method !== 'GET' && method !== 'HEAD') {
      throw new StreamHttpError(405, 'method_not_allowed', `${method} is not allowed here`, {
        headers: { Allow: ALLOWED_METHODS },
      });
    }
    const transport = transportOf(view);
    const query = queryOf(view);
    const topic = await options.topic(req);
    try {
      assertTopic(topic);
    } catch (cause) {
      throw new StreamHttpError(400, 'invalid_topic', 'invalid topic', { cause });
    }
    const waitMs = transport === 'long-poll' ? longPollWaitMs(query, options.longPollWaitMs) : 0;
    const grant = await authenticate(options, view, req, query, topic, transport);
    if (gone()) return;
    if (closing && method === 'GET' && transport === 'sse') return drain(view, sink);
    if (closing) throw shuttingDown();
    const key = connectionKeyOf(req, grant, topic, transport);
    admission.check(key);
    if (method === 'HEAD') {
      sink.writeHead(
        200,
        transport === 'sse'
          ? sseHeaders(view)
          : { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' },
      );
      sink.end();
      return;
    }
    admission.enter(key, topic); // given back when the stream or poll ends
    if (transport === 'long-poll') {
      await polls.open({ sink, topic, after: longPollAfter(query), waitMs, grant, key }, isClosing);
      return;
    }
    const after = sseResumePoint(view, query);
    const opening = await streams.open({ view, sink, topic, after, grant, key }, isClosing);
    if (opening === 'closing') drain(view, sink);
    if (opening === 'headers_sent') {
      // Another middleware already answered: nothing to stream into.
      throw new Error(`[repopulse] ${scope.logName}: response headers were already sent`);
    }
  }

  async function serve(
    view: RequestView,
    req: Req,
    sink: ResponseSink,
    onUnexpected?: UnexpectedErrorHandler,
  ): Promise<void> {
    let gone = false;
    // Only while the request is being set up: an idle stream must not keep this frame (req, res,
    // Express's `next`) alive through the listener.
    const markGone = () => {
      gone = true;
    };
    sink.on('close', markGone);
    try {
      await admit(view, req, sink, () => gone);
    } catch (error) {
      if (!isStreamHttpError(error)) {
        if (onUnexpected && !sink.headersSent && !gone) {
          onUnexpected(error);
          return;
        }
        options.onError(error);
      }
      if (gone || sink.headersSent) {
        if (!sink.writableEnded) sink.destroy();
        return;
      }
      parts.counters.rejected++;
      sendJsonError(sink, toHttpError(error));
    } finally {
      sink.removeListener('close', markGone);
    }
  }

  const server: StreamServer<Req> = {
    serve,
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
      admission.enter(undefined, undefined); // a sentinel: `close` cannot resolve before every stream was told to close
      polls.answerAll();
      streams.closeAll(graceMs);
      admission.leave(undefined, undefined);
      return closed;
    },
    stats(): EventStreamStats {
      return {
        connections: admission.active,
        streams: streams.opened,
        longPolls: polls.polls.size,
        topics: admission.topics,
        bufferedBytes: streams.bufferedBytes,
        ...parts.counters,
        closing,
      };
    },
  };
  return server;
}
