import { isRepoPulseError } from '@repopulse/events-core';
import { assertTopic, requireOption } from '@repopulse/events-core/bus-kit';
import { isStreamHttpError, StreamHttpError } from '../errors';
import { Admission } from './admission';
import { authenticate, type Grant } from './authenticate';
import { DeadlineQueue } from './deadline-queue';
import { sendJsonError, toHttpError } from './json-response';
import { type HandlerTelemetry, handlerTelemetry } from './metrics';
import { OpenLongPolls } from './open-long-polls';
import { OpenStreams, sseHeaders } from './open-streams';
import { type EventStreamOptions, type OptionsScope, type ResolvedOptions, resolveOptions } from './options';
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
const HEAD_JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

/**
 * Creates the framework-neutral server. Handlers created on the same bus (by any adapter) share
 * one topic hub per topic. `scope` names the adapter in option errors and logs.
 */
export function createStreamServer<Req>(
  options: EventStreamOptions<Req>,
  scope: OptionsScope,
): StreamServer<Req> {
  return new EventStreamServer(options, scope);
}

/** One handler: its request flow, its streams and long-polls, its limits, counters and drain. */
class EventStreamServer<Req> implements StreamServer<Req> {
  private readonly options: ResolvedOptions<Req>;
  private readonly parts: ServerParts<Req>;
  private readonly streams: OpenStreams<Req>;
  private readonly polls: OpenLongPolls<Req>;
  private readonly retryAfter: string;
  private readonly telemetry: HandlerTelemetry | undefined;
  private closing = false;
  private closed: Promise<void> | undefined;
  private resolveClosed: (() => void) | undefined;
  private busClosedReported = false;
  private readonly isClosing = () => this.closing;

  constructor(
    userOptions: EventStreamOptions<Req>,
    private readonly scope: OptionsScope,
  ) {
    const options = resolveOptions(userOptions, scope);
    if (options.tokenSecret !== undefined) checkTokenSecret(scope.factory, options.tokenSecret);
    this.options = options;
    this.retryAfter = String(Math.max(1, Math.ceil(options.retryMs / 1000)));
    const registry = registryOf(options.bus);
    registry.register({ events: options.windowEvents, bytes: options.windowBytes });
    const admission = new Admission(
      options.maxConnections,
      options.maxConnectionsPerKey,
      this.retryAfter,
      () => this.settled(),
    );
    this.parts = {
      options,
      registry,
      counters: new StatsCounters(),
      deadlines: new DeadlineQueue(),
      admission,
      unavailable: (error) => this.unavailable(error),
    };
    this.streams = new OpenStreams(this.parts);
    this.polls = new OpenLongPolls(this.parts);
    this.telemetry = handlerTelemetry(() => this.stats());
  }

  async serve(
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
      await this.admit(view, req, sink, () => gone);
    } catch (error) {
      if (!isStreamHttpError(error)) {
        if (onUnexpected && !sink.headersSent && !gone) {
          onUnexpected(error);
          return;
        }
        this.options.onError(error);
      }
      if (gone || sink.headersSent) {
        if (!sink.writableEnded) sink.destroy();
        return;
      }
      this.parts.counters.rejected++;
      sendJsonError(sink, toHttpError(error));
    } finally {
      sink.removeListener('close', markGone);
    }
  }

  close(closeOptions: CloseOptions = {}): Promise<void> {
    if (this.closed) return this.closed;
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
    this.closing = true;
    this.telemetry?.dispose();
    this.closed = new Promise<void>((resolve) => {
      this.resolveClosed = resolve;
    });
    const { admission } = this.parts;
    admission.enter(undefined, undefined); // a sentinel: `close` cannot resolve before every stream was told to close
    this.polls.answerAll();
    this.streams.closeAll(graceMs);
    admission.leave(undefined, undefined);
    return this.closed;
  }

  stats(): EventStreamStats {
    const { admission, counters } = this.parts;
    return {
      connections: admission.active,
      streams: this.streams.opened,
      longPolls: this.polls.polls.size,
      topics: admission.topics,
      bufferedBytes: this.streams.bufferedBytes,
      ...counters,
      closing: this.closing,
    };
  }

  /** Checks, authenticates and opens; `gone()` tells whether the client left meanwhile. */
  private async admit(view: RequestView, req: Req, sink: ResponseSink, gone: () => boolean): Promise<void> {
    const { options } = this;
    const method = view.method;
    if (this.refuseIfClosing(view, sink, transportOf(view))) return;
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
    if (gone() || this.refuseIfClosing(view, sink, transport)) return;
    const key = this.connectionKeyOf(req, grant, topic, transport);
    this.parts.admission.check(key);
    if (method === 'HEAD') {
      sink.writeHead(200, transport === 'sse' ? sseHeaders(view) : HEAD_JSON_HEADERS);
      sink.end();
      return;
    }
    this.parts.admission.enter(key, topic); // given back when the stream or poll ends
    if (transport === 'long-poll') {
      await this.polls.open({ sink, topic, after: longPollAfter(query), waitMs, grant, key }, this.isClosing);
      return;
    }
    const after = sseResumePoint(view, query);
    const opening = await this.streams.open({ view, sink, topic, after, grant, key }, this.isClosing);
    if (opening === 'closing') this.drain(view, sink);
    if (opening === 'headers_sent') {
      // Another middleware already answered: nothing to stream into.
      throw new Error(`[repopulse] ${this.scope.logName}: response headers were already sent`);
    }
  }

  /** While closing: an SSE GET is drained (true), anything else throws 503 `shutting_down`. */
  private refuseIfClosing(view: RequestView, sink: ResponseSink, transport: Transport): boolean {
    if (!this.closing) return false;
    if (view.method === 'GET' && transport === 'sse') {
      this.drain(view, sink);
      return true;
    }
    throw new StreamHttpError(503, 'shutting_down', 'the server is shutting down', {
      headers: { 'Retry-After': this.retryAfter },
    });
  }

  /** While closing, an SSE request gets 200 + `retry:` and a clean end: EventSource reconnects. */
  private drain(view: RequestView, sink: ResponseSink): void {
    this.parts.counters.drained++;
    sink.writeHead(200, sseHeaders(view));
    sink.end(this.streams.preamble);
  }

  /** The key a request counts against for `maxConnectionsPerKey` (default: the token's `sub`). */
  private connectionKeyOf(req: Req, grant: Grant, topic: string, transport: Transport): string | undefined {
    const { connectionKey } = this.options;
    if (connectionKey) return connectionKey(req, { topic, token: grant.token, transport });
    const sub = grant.token?.sub;
    return typeof sub === 'string' ? sub : undefined;
  }

  /** A failed bus call: reported to `onError` (a closed bus once), answered 503. */
  private unavailable(error: unknown): StreamHttpError {
    const closedBus = isRepoPulseError(error, 'bus_closed');
    if (!closedBus || !this.busClosedReported) this.options.onError(error);
    if (closedBus) this.busClosedReported = true;
    return new StreamHttpError(
      503,
      closedBus ? 'bus_closed' : 'bus_unavailable',
      closedBus ? 'the event bus is closed' : 'the event bus is unavailable',
      { cause: error, headers: { 'Retry-After': this.retryAfter } },
    );
  }

  /** A connection ended: once closing and none is left, stop the timers and resolve `close()`. */
  private settled(): void {
    if (!this.closing || this.parts.admission.active !== 0) return;
    this.streams.stop();
    this.parts.deadlines.clear();
    this.resolveClosed?.();
  }
}
