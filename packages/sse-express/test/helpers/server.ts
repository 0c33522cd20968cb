import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { listenTracked } from '@repopulse/test-support';
import express5, { type RequestHandler } from 'express';
import express4 from 'express4';
import { afterEach } from 'vitest';
import type { ExpressLikeRequest } from '../../src/express';
import { createEventStreamHandler, type EventStreamHandler, type EventStreamOptions } from '../../src/index';
import type { BusFactory } from './bus-factories';

/** Which Express to mount the handler on. */
export type ExpressVersion = 4 | 5;

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  server: Server;
  handler: EventStreamHandler;
  /** Server-side sockets currently open. */
  sockets: Set<Socket>;
  /** URL of the repository events route for `id`. */
  url(id: string, query?: string): string;
  /** Path of the repository events route for `id`. */
  path(id: string, query?: string): string;
  close(): Promise<void>;
}

/** Options of {@link startServer}. */
export interface StartOptions {
  express?: ExpressVersion;
  /** Middleware mounted before the route (e.g. `compression()`). */
  before?: RequestHandler[];
}

/**
 * Starts Express (4 or 5) with the handler on `/api/repositories/:id/events`, topic `repo:<id>`
 * unless `options.topic` says otherwise.
 */
export async function startServer(
  handlerOptions: Omit<EventStreamOptions<ExpressLikeRequest>, 'topic'> &
    Partial<Pick<EventStreamOptions<ExpressLikeRequest>, 'topic'>>,
  { express = 5, before = [] }: StartOptions = {},
): Promise<TestServer> {
  const handler = createEventStreamHandler<ExpressLikeRequest>({
    topic: (req) => `repo:${req.params.id}`,
    ...handlerOptions,
  });
  const app = express === 4 ? express4() : express5();
  for (const middleware of before) app.use(middleware);
  app.get('/api/repositories/:id/events', handler);
  const server = createServer(app);
  const listening = await listenTracked(server);
  const { origin, port, sockets } = listening;
  const path = (id: string, query = '') => `/api/repositories/${encodeURIComponent(id)}/events${query}`;
  return {
    origin,
    port,
    server,
    handler: handler as unknown as EventStreamHandler,
    sockets,
    path,
    url: (id, query) => origin + path(id, query),
    async close() {
      await handler.close();
      await listening.close();
    },
  };
}

/**
 * A test file's server starter for one bus factory: starts a server as {@link startServer} does;
 * after each test, closes the servers that test started, then the factory's buses.
 *
 * @example
 * ```ts
 * describe.each(factories)('… on the $name bus', (factory) => {
 *   const start = serverStarter(factory);
 *   it('…', async () => {
 *     const server = await start({ bus: await factory.create() });
 *   });
 * });
 * ```
 */
export function serverStarter(factory: BusFactory): typeof startServer {
  const started: TestServer[] = [];
  afterEach(async () => {
    for (const server of started.splice(0)) await server.close();
    await factory.cleanup();
  });
  return async (...args) => {
    const server = await startServer(...args);
    started.push(server);
    return server;
  };
}
