import { createFastifyHandler } from '@repopulse/sse-server/fastify';
import Fastify from 'fastify';
import { bus } from './bus.js';

export const app = Fastify();
app.get(
  '/api/repositories/:id/events',
  createFastifyHandler({
    bus,
    topic: (request) => `repo:${(request.params as { id: string }).id}`,
  }),
);
await app.listen({ port: Number(process.env.PORT ?? 3000) });
