import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CloseOptions, EventStreamStats } from '@repopulse/sse-server';
import { createEventStreamCore, type EventStreamCore, type EventStreamOptions } from './event-stream-core';

/**
 * The request shape the Express wrapper assumes (Express 4 and 5 requests both fit): Node's
 * `IncomingMessage` with route `params`.
 */
export type ExpressLikeRequest = IncomingMessage & {
  /** Route parameters (`req.params.id`). */
  params: Record<string, string>;
};

/** Express's `next`. */
export type NextFunction = (error?: unknown) => void;

/** An Express request handler (Express 4 and 5) with shutdown and diagnostics. */
export interface EventStreamHandler<Req extends IncomingMessage = ExpressLikeRequest> {
  /** Serves SSE or long-poll on this route; unexpected errors go to `next(error)`. */
  (req: Req, res: ServerResponse, next?: NextFunction): void;
  /**
   * Refuses new requests (503), answers waiting long-polls and ends every stream, spread over
   * `graceMs`. Resolves when all are closed. Does not close the bus.
   * @example process.on('SIGTERM', () => handler.close({ graceMs: 10_000 }).then(() => server.close()));
   */
  close(options?: CloseOptions): Promise<void>;
  /** Counts of open connections and of closes by reason. */
  stats(): EventStreamStats;
  /** The framework-neutral core, e.g. to also serve a plain `http`/`http2` server. */
  readonly core: EventStreamCore<Req>;
}

/**
 * Creates the Express middleware serving one URL with both transports: SSE for
 * `Accept: text/event-stream` (replay after `Last-Event-ID`/`?last_event_id=`, then live;
 * heartbeats; backpressure) and a JSON long-poll for `Accept: application/json`
 * (`?after=&wait=`). Works with Express 4 and 5, behind `compression()` too.
 *
 * @example
 * ```ts
 * const events = createEventStreamHandler({
 *   bus,
 *   topic: (req) => `repo:${req.params.id}`,
 *   tokenSecret: process.env.STREAM_TOKEN_SECRET,
 * });
 * app.get('/api/repositories/:id/events', events);
 * ```
 */
export function createEventStreamHandler<Req extends IncomingMessage = ExpressLikeRequest>(
  options: EventStreamOptions<Req>,
): EventStreamHandler<Req> {
  const core = createEventStreamCore<Req>(options);
  const handler = (req: Req, res: ServerResponse, next?: NextFunction): void => {
    void core.handle(req, res, next ? (error) => next(error) : undefined);
  };
  return Object.assign(handler, {
    close: (closeOptions?: CloseOptions) => core.close(closeOptions),
    stats: () => core.stats(),
    core,
  });
}
