import { type ServerMount, testServer, topicOf } from '@repopulse/server-contract';
import { listenTracked } from '@repopulse/test-support';
import Fastify, { type FastifyRequest } from 'fastify';
import { createFastifyHandler } from '../src/fastify/index';
import { authorizeId, mounted, ROUTE } from './helpers/contract-mount';

type Request = FastifyRequest<{ Params: { id: string } }>;

/** The handler on a Fastify 5 route for every method, through Fastify's own node:http server. */
const fastifyMount: ServerMount = async (options) => {
  const handler = createFastifyHandler<Request>({
    ...options,
    topic: (request) => topicOf(request.params.id),
    authorize: (request) => authorizeId(request.params.id),
  });
  const app = Fastify();
  app.route({
    method: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
    url: ROUTE,
    exposeHeadRoute: false,
    handler,
  });
  await app.ready();
  const listening = await listenTracked(app.server);
  return mounted(listening, listening.origin, handler, async () => {
    await listening.close();
    await app.close();
  });
};

testServer('Fastify 5', fastifyMount);
