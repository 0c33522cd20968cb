import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventStreamOptions } from '../core/options';
import type { EventStreamStats } from '../core/stats';
import { type CloseOptions, createStreamServer } from '../core/stream-server';
import { NodeRequestView } from '../node/node-types';

/** A Fastify 5 route handler with shutdown and diagnostics. */
export interface FastifyHandler<Req extends FastifyRequest = FastifyRequest> {
  /**
   * Serves SSE or long-poll on this route: takes the response over (`reply.hijack()`) and writes to
   * `reply.raw`, after Fastify's `onRequest`/`preHandler` hooks ran (so auth hooks apply).
   */
  (request: Req, reply: FastifyReply): Promise<void>;
  /**
   * Refuses new requests (503; SSE gets `retry:` and a clean end), answers waiting long-polls and
   * ends every stream, spread over `graceMs`. Resolves when all are closed. Does not close the bus.
   * @example app.addHook('onClose', () => events.close({ graceMs: 5_000 }));
   */
  close(options?: CloseOptions): Promise<void>;
  /** Counts of open connections and of closes by reason. */
  stats(): EventStreamStats;
}

/**
 * Creates a Fastify 5 route handler serving one URL with both transports (SSE and JSON
 * long-poll). `topic`, `authorize` and `connectionKey` get Fastify's `request` (with `params`,
 * and whatever your hooks decorated it with). Mount it with `app.get(path, handler)`; Fastify
 * answers HEAD through it too. Once it runs, the response is hijacked: headers set with
 * `reply.header()` in hooks are not sent.
 *
 * @example
 * ```ts
 * const events = createFastifyHandler<FastifyRequest<{ Params: { id: string } }>>({
 *   bus,
 *   topic: (request) => `repo:${request.params.id}`,
 * });
 * app.get('/repos/:id/events', events);
 * ```
 */
export function createFastifyHandler<Req extends FastifyRequest = FastifyRequest>(
  options: EventStreamOptions<Req>,
): FastifyHandler<Req> {
  const server = createStreamServer<Req>(options, { factory: 'createFastifyHandler', logName: 'sse-server' });
  const handler = async (request: Req, reply: FastifyReply): Promise<void> => {
    reply.hijack();
    await server.serve(new NodeRequestView(request.raw), request, reply.raw);
  };
  return Object.assign(handler, {
    close: (closeOptions?: CloseOptions) => server.close(closeOptions),
    stats: () => server.stats(),
  });
}
