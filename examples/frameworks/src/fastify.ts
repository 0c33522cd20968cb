import { createFastifyHandler } from '@repopulse/sse-server/fastify';
import Fastify, { type FastifyRequest } from 'fastify';
import { bus } from './bus.js';

type EventsRequest = FastifyRequest<{ Params: { id: string } }>;

export const app = Fastify();
app.get(
  '/api/repositories/:id/events',
  createFastifyHandler<EventsRequest>({ bus, topic: (request) => `repo:${request.params.id}` }),
);
await app.listen({ port: Number(process.env.PORT ?? 3000) });
