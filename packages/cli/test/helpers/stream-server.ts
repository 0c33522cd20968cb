import { createServer } from 'node:http';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, type EventBus, type StreamPosition } from '@repopulse/events-core';
import { createEventStreamHandler, StreamHttpError } from '@repopulse/sse-express';
import { freePort, listenTracked } from '@repopulse/test-support';
import express from 'express';

/** The bearer token the test server accepts for repository 1 (`other` is valid but not allowed). */
export const TOKEN = 'good-token';

/** A real sse-express server on a memory bus with bearer auth, on a real socket. */
export interface StreamServer {
  /** SSE + long-poll URL of `repo:1`. */
  url: string;
  /** The same topic behind a proxy that only lets long-polls through (JSON answers only). */
  pollUrl: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  bus: EventBus;
  /** Publishes `task.progress` events with the given request ids on `repo:1`; resolves with their positions. */
  publish(requestIds: string[], type?: 'task.progress' | 'log.append'): Promise<StreamPosition[]>;
  /** Open SSE streams (not counting long-polls). */
  streams(): number;
  /** Stops accepting {@link TOKEN} (later requests with it get 401). */
  revoke(): void;
  /** Destroys every open socket (a dropped connection); the server keeps listening. */
  dropConnections(): void;
  close(): Promise<void>;
}

/**
 * Starts the server: `Authorization: Bearer good-token` reads `repo:1`; no token → 401,
 * `Bearer other` → 403, a repository other than 1 → 404, a non-numeric id → 400. `historyLimit`
 * is the memory bus's (to test a trimmed history); `longPollMaxEvents` the handler's (capped answers).
 */
export async function startStreamServer(
  options: { historyLimit?: number; longPollMaxEvents?: number } = {},
): Promise<StreamServer> {
  let revoked = false;
  const { longPollMaxEvents, ...busOptions } = options;
  const bus = createMemoryBus({ onError: () => {}, ...busOptions });
  const handler = createEventStreamHandler<express.Request>({
    bus,
    retryMs: 20,
    heartbeatMs: 60_000,
    ...(longPollMaxEvents === undefined ? {} : { longPollMaxEvents }),
    onError: () => {},
    topic: (req) => {
      if (!/^\d+$/.test(String(req.params.id)))
        throw new StreamHttpError(400, 'invalid_parameter', 'id must be a number');
      if (req.params.id !== '1')
        throw new StreamHttpError(404, 'not_found', `repository ${req.params.id} does not exist`);
      return 'repo:1';
    },
    authorize: (req) => {
      const auth = req.headers.authorization;
      if (!auth || (revoked && auth === `Bearer ${TOKEN}`))
        throw new StreamHttpError(401, 'unauthorized', 'log in first');
      return auth === `Bearer ${TOKEN}`;
    },
  });
  const app = express();
  app.get('/api/repositories/:id/events', handler);
  // A "long-poll only" deployment: whatever the client asks for, the server answers JSON (an
  // SSE request gets an immediate answer, as from a server that has no SSE at all).
  app.get('/poll/repositories/:id/events', (req, res, next) => {
    if (req.headers.accept?.includes('text/event-stream'))
      req.url += `${req.url.includes('?') ? '&' : '?'}wait=0`;
    req.headers.accept = 'application/json';
    handler(req, res, next);
  });
  app.get('/plain', (_req, res) => {
    res.json({ hello: 'world' });
  });
  const listening = await listenTracked(createServer(app));
  const { origin } = listening;
  let n = 0;
  return {
    url: `${origin}/api/repositories/1/events`,
    pollUrl: `${origin}/poll/repositories/1/events`,
    origin,
    bus,
    async publish(requestIds, type = 'task.progress') {
      const positions: StreamPosition[] = [];
      for (const request_id of requestIds) {
        n++;
        const meta = { repo_id: 1, task_id: n, request_id };
        const event =
          type === 'log.append'
            ? createEvent('log.append', { level: 'info', message: `line ${n}` }, meta)
            : createEvent('task.progress', { phase: 'llm', percent: n % 100, message: `step ${n}` }, meta);
        positions.push((await bus.publish('repo:1', event)).position);
      }
      return positions;
    },
    streams: () => handler.stats().streams,
    revoke() {
      revoked = true;
    },
    dropConnections: listening.dropConnections,
    async close() {
      listening.dropConnections();
      await handler.close();
      await listening.close();
      await bus.close();
    },
  };
}

/** A port nothing listens on (bound, then released). */
export const closedPort: () => Promise<number> = freePort;
