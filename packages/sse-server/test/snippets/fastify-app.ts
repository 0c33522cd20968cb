import { createMemoryBus } from '@repopulse/bus-memory';
import { createFastifyHandler } from '@repopulse/sse-server/fastify';
import Fastify, { type FastifyRequest } from 'fastify';

const bus = createMemoryBus();
const app = Fastify();
// Auth in a hook, as for any other route: a refused request never reaches the handler.
app.addHook('onRequest', async (request, reply) => {
  if (request.headers.authorization !== 'Bearer demo') await reply.code(401).send({ error: 'unauthorized' });
});
const events = createFastifyHandler<FastifyRequest<{ Params: { id: string } }>>({
  bus,
  topic: (request) => `repo:${request.params.id}`,
});
app.get('/repos/:id/events', events);
app.addHook('onClose', () => events.close({ graceMs: 5_000 }));
await app.listen({ port: 3000 });
