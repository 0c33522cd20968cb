import {
  type CloseOptions,
  createStreamServer,
  type EventStreamStats,
  type EventStreamOptions as ServerOptions,
  type UnexpectedErrorHandler,
} from '@repopulse/sse-server';
import { type NodeRequest, type NodeResponse, serveNode } from '@repopulse/sse-server/node';

/**
 * Options of `createEventStreamHandler` / `createEventStreamCore`: `@repopulse/sse-server`'s, with
 * Node's request as the default `Req`.
 */
export type EventStreamOptions<Req extends NodeRequest = NodeRequest> = ServerOptions<Req>;

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

/**
 * Creates the event-stream handler over Node's `IncomingMessage` / `ServerResponse` (HTTP/2
 * compat objects work too). `createEventStreamHandler` wraps it for Express;
 * `@repopulse/sse-server/node`'s `createNodeHandler` is the same without Express.
 *
 * @example
 * ```ts
 * const core = createEventStreamCore({ bus, topic: 'repos' });
 * http.createServer((req, res) => void core.handle(req, res)).listen(3000);
 * ```
 */
export function createEventStreamCore<Req extends NodeRequest = NodeRequest>(
  options: EventStreamOptions<Req>,
): EventStreamCore<Req> {
  const server = createStreamServer<Req>(options, {
    factory: 'createEventStreamHandler',
    logName: 'sse-express',
  });
  return {
    handle: (req, res, onUnexpected) => serveNode(server, req, res, onUnexpected),
    close: (closeOptions) => server.close(closeOptions),
    stats: () => server.stats(),
  };
}
