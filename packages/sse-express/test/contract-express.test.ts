import { createServer } from 'node:http';
import { accessOf, type ServerMount, testServer, topicOf } from '@repopulse/server-contract';
import { listenTracked } from '@repopulse/test-support';
import express5 from 'express';
import express4 from 'express4';
import { createEventStreamHandler, type ExpressLikeRequest, StreamHttpError } from '../src/index';

/** The handler on `app.all('/topics/:id/events')` of Express `version`, on node:http. */
function expressMount(version: 4 | 5): ServerMount {
  return async (options) => {
    const handler = createEventStreamHandler<ExpressLikeRequest>({
      ...options,
      topic: (req) => topicOf(req.params.id!),
      authorize: (req) => {
        const access = accessOf(req.params.id!);
        if (access === 'not_found') throw new StreamHttpError(404, 'not_found', 'unknown topic');
        return access === 'allow';
      },
    });
    const app = version === 4 ? express4() : express5();
    app.all('/topics/:id/events', handler);
    const listening = await listenTracked(createServer(app));
    return {
      origin: listening.origin,
      url: (id, query = '') => `${listening.origin}/topics/${encodeURIComponent(id)}/events${query}`,
      stats: () => handler.stats(),
      dropConnections: listening.dropConnections,
      closeHandler: (closeOptions) => handler.close(closeOptions),
      async close() {
        await handler.close();
        await listening.close();
      },
    };
  };
}

testServer('Express 4', expressMount(4));
testServer('Express 5', expressMount(5));
