import { serve } from '@hono/node-server';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createFetchHandler } from '@repopulse/sse-server/fetch';
import { Hono } from 'hono';

const bus = createMemoryBus();
// The handler's second argument reaches `topic`, `authorize` and `connectionKey`: here the route params.
const events = createFetchHandler<{ id: string }>({
  bus,
  topic: (_request, params) => `repo:${params.id}`,
});
const app = new Hono();
app.get('/repos/:id/events', (c) => events(c.req.raw, c.req.param()));
serve({ fetch: app.fetch, port: 3000 });
