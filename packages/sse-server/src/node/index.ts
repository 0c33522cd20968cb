import type { EventStreamOptions } from '../core/options';
import type { EventStreamStats } from '../core/stats';
import type { CloseOptions, StreamServer, UnexpectedErrorHandler } from '../core/stream-server';
import { createStreamServer } from '../core/stream-server';
import { type NodeRequest, NodeRequestView, type NodeResponse, type NodeServerRequest } from './node-types';

export { type NodeRequest, NodeRequestView, type NodeResponse, type NodeServerRequest } from './node-types';

/** A `node:http` / `node:http2` request listener with shutdown and diagnostics. */
export interface NodeHandler<Req extends NodeRequest = NodeServerRequest> {
  /** Serves SSE or long-poll on this request. */
  (req: Req, res: NodeResponse): void;
  /**
   * Refuses new requests (503; SSE gets `retry:` and a clean end), answers waiting long-polls and
   * ends every stream, spread over `graceMs`. Resolves when all are closed. Does not close the bus.
   * @example process.on('SIGTERM', () => handler.close({ graceMs: 10_000 }).then(() => server.close()));
   */
  close(options?: CloseOptions): Promise<void>;
  /** Counts of open connections and of closes by reason. */
  stats(): EventStreamStats;
}

/**
 * Serves `server` requests through `options` with the node request view: the building block of
 * {@link createNodeHandler} and of adapters over Node's objects (sse-express, Fastify).
 */
export function serveNode<Req extends NodeRequest>(
  server: StreamServer<Req>,
  req: Req,
  res: NodeResponse,
  onUnexpected?: UnexpectedErrorHandler,
): Promise<void> {
  return server.serve(new NodeRequestView(req), req, res, onUnexpected);
}

/**
 * Creates a request listener for `node:http` and the `node:http2` compatibility API serving one URL
 * with both transports: SSE for `Accept: text/event-stream` (replay after `Last-Event-ID` /
 * `?last_event_id=`, then live; heartbeats; backpressure) and a JSON long-poll for
 * `Accept: application/json` (`?after=&wait=`). Route it yourself (it answers every request it
 * gets; methods other than GET/HEAD get 405).
 *
 * @example
 * ```ts
 * const events = createNodeHandler({ bus, topic: (req) => `repo:${new URL(req.url ?? '/', 'http://x').searchParams.get('repo')}` });
 * http.createServer((req, res) => (req.url?.startsWith('/events') ? events(req, res) : notFound(res))).listen(3000);
 * ```
 */
export function createNodeHandler<Req extends NodeRequest = NodeServerRequest>(
  options: EventStreamOptions<Req>,
): NodeHandler<Req> {
  const server = createStreamServer<Req>(options, { factory: 'createNodeHandler', logName: 'sse-server' });
  const handler = (req: Req, res: NodeResponse): void => {
    void serveNode(server, req, res);
  };
  return Object.assign(handler, {
    close: (closeOptions?: CloseOptions) => server.close(closeOptions),
    stats: () => server.stats(),
  });
}
