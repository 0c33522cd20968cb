import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { serve } from '@hono/node-server';
import { type ServerMount, testServer, topicOf } from '@repopulse/server-contract';
import { freePort, type TrackedServer } from '@repopulse/test-support';
import { Hono } from 'hono';
import { createFetchHandler } from '../src/fetch/index';
import { authorizeId, mounted, ROUTE } from './helpers/contract-mount';

/** The Fetch handler on a Hono 4 route for every method, served by `@hono/node-server`. */
const honoMount: ServerMount = async (options) => {
  const handler = createFetchHandler<{ id: string }>({
    ...options,
    topic: (_request, params) => topicOf(params.id),
    authorize: (_request, _auth, params) => authorizeId(params.id),
  });
  const app = new Hono();
  app.all(ROUTE, (c) => handler(c.req.raw, { id: c.req.param('id') }));
  const port = await freePort();
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    );
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  const origin = `http://127.0.0.1:${port}`;
  const listening: TrackedServer = {
    origin,
    port,
    sockets,
    dropConnections,
    close: () => {
      dropConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return mounted(listening, origin, handler);
};

testServer('Hono 4 on @hono/node-server', honoMount);
