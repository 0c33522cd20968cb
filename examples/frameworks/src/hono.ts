import { serve } from '@hono/node-server';
import { createFetchHandler } from '@repopulse/sse-server/fetch';
import { Hono } from 'hono';
import { bus } from './bus.js';

const events = createFetchHandler<{ id: string }>({
  bus,
  topic: (_request, params) => `repo:${params.id}`,
});

const app = new Hono();
app.get('/api/repositories/:id/events', (c) => events(c.req.raw, c.req.param()));
export const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) });
