import type { AuthorizeContext, AuthorizeResult, EventStreamOptions } from '../core/options';
import type { EventStreamStats } from '../core/stats';
import { type CloseOptions, createStreamServer } from '../core/stream-server';
import { FetchRequestView } from './fetch-request-view';
import { FetchSink } from './fetch-sink';

/**
 * The request the Fetch adapter hands to its server: the `Request` and the handler's second
 * argument.
 */
interface FetchCall<Context> {
  readonly request: Request;
  readonly context: Context;
}

/**
 * Options of {@link createFetchHandler}: those of every adapter, with `topic`, `authorize` and
 * `connectionKey` given the Fetch `Request` and the handler's second argument, `context` (Next.js
 * passes `{ params }` there; with Hono pass `c.req.param()` yourself).
 */
export interface FetchHandlerOptions<Context = undefined>
  extends Omit<EventStreamOptions<Request>, 'topic' | 'authorize' | 'connectionKey'> {
  /**
   * The topic of a request: a fixed name or a function of the request and the handler's second
   * argument. It may throw a `StreamHttpError` (e.g. 404).
   * @example async (request, { params }) => `repo:${(await params).id}` // Next.js App Router
   */
  topic: string | ((request: Request, context: Context) => string | Promise<string>);
  /**
   * Decides whether `request` may read `auth.topic`; runs after the token check. Return `false`
   * for 403, throw `StreamHttpError` for 401/404/…
   * @default allows every request (that passed the token check, if any)
   * @example async (request, { topic }) => (await session(request))?.canRead(topic) ?? false
   */
  authorize?: (
    request: Request,
    auth: AuthorizeContext,
    context: Context,
  ) => AuthorizeResult | Promise<AuthorizeResult>;
  /**
   * Which key a request counts against for `maxConnectionsPerKey`, called after `authorize`.
   * @default the verified stream token's `sub` claim, when there is one
   * @example (request) => request.headers.get('x-user-id') ?? undefined
   */
  connectionKey?: (request: Request, auth: AuthorizeContext, context: Context) => string | undefined;
}

/** A Fetch handler (`(request) => Promise<Response>`) with shutdown and diagnostics. */
export interface FetchHandler<Context = undefined> {
  /**
   * Answers one request: an SSE `Response` whose body streams until the client leaves
   * (`request.signal`), or a JSON long-poll / error response.
   */
  (
    request: Request,
    ...context: undefined extends Context ? [context?: Context] : [context: Context]
  ): Promise<Response>;
  /**
   * Refuses new requests (503; SSE gets `retry:` and a clean end), answers waiting long-polls and
   * ends every stream, spread over `graceMs`. Resolves when all are closed. Does not close the bus.
   */
  close(options?: CloseOptions): Promise<void>;
  /** Counts of open connections and of closes by reason. */
  stats(): EventStreamStats;
}

/**
 * Creates a Fetch-API handler: `(request, context?) => Promise<Response>`, for Hono, Next.js App
 * Router route handlers, Bun, Deno and any server speaking `Request`/`Response`. SSE bodies are
 * `ReadableStream`s paced by their reader: a reader that stops pulling holds its bytes as buffered,
 * and is closed by `maxBufferedBytes` / `writeTimeoutMs` like a slow socket. The request's `signal`
 * ends the stream.
 *
 * @example
 * ```ts
 * // Hono
 * const events = createFetchHandler<{ id: string }>({ bus, topic: (_req, params) => `repo:${params.id}` });
 * app.get('/repos/:id/events', (c) => events(c.req.raw, c.req.param()));
 * // Next.js (app/repos/[id]/events/route.ts)
 * export const GET = createFetchHandler<{ params: Promise<{ id: string }> }>({
 *   bus,
 *   topic: async (_req, { params }) => `repo:${(await params).id}`,
 * });
 * ```
 */
export function createFetchHandler<Context = undefined>(
  options: FetchHandlerOptions<Context>,
): FetchHandler<Context> {
  const server = createStreamServer<FetchCall<Context>>(toServerOptions(options), {
    factory: 'createFetchHandler',
    logName: 'sse-server',
  });
  const handler = async (request: Request, context?: Context): Promise<Response> => {
    const sink = new FetchSink(request.signal);
    const call: FetchCall<Context> = { request, context: context as Context };
    void server.serve(new FetchRequestView(request), call, sink);
    return sink.response;
  };
  return Object.assign(handler as unknown as FetchHandler<Context>, {
    close: (closeOptions?: CloseOptions) => server.close(closeOptions),
    stats: () => server.stats(),
  });
}

/** The server's options: the callbacks unwrapped from the {@link FetchCall}. */
function toServerOptions<Context>(
  options: FetchHandlerOptions<Context>,
): EventStreamOptions<FetchCall<Context>> {
  const { topic, authorize, connectionKey, ...rest } = options;
  const serverOptions: EventStreamOptions<FetchCall<Context>> = {
    ...rest,
    topic: typeof topic === 'function' ? (call) => topic(call.request, call.context) : topic,
  };
  if (authorize !== undefined) {
    serverOptions.authorize =
      typeof authorize === 'function'
        ? (call, auth) => authorize(call.request, auth, call.context)
        : authorize;
  }
  if (connectionKey !== undefined) {
    serverOptions.connectionKey =
      typeof connectionKey === 'function'
        ? (call, auth) => connectionKey(call.request, auth, call.context)
        : connectionKey;
  }
  return serverOptions;
}
