import { createRedisBus } from '@repopulse/bus-redis';
import { accessOf, topicOf } from '@repopulse/server-contract/mount';
import { StreamHttpError } from '@repopulse/sse-server';
import { createFetchHandler } from '@repopulse/sse-server/fetch';

// One handler (and Redis bus) per contract configuration, shared by every route module of the
// process: the route's `[config]` segment is the base64url JSON of the handler options and of the
// bus's key prefix and history limit, as the test's own bus has them.
globalThis.contractHandlers ??= new Map();
const handlers = globalThis.contractHandlers;

/** The handler for route segment `config`, made on first use. */
export function handlerFor(config) {
  let entry = handlers.get(config);
  if (!entry) {
    const { keyPrefix, historyLimit, ...options } = JSON.parse(
      Buffer.from(config, 'base64url').toString('utf8'),
    );
    const bus = createRedisBus({
      url: process.env.CONTRACT_REDIS_URL,
      keyPrefix,
      ...(historyLimit === undefined ? {} : { historyLimit }),
    });
    const handler = createFetchHandler({
      ...options,
      bus,
      topic: async (_request, { params }) => topicOf((await params).id),
      authorize: async (_request, _auth, { params }) => {
        const access = accessOf((await params).id);
        if (access === 'not_found') throw new StreamHttpError(404, 'not_found', 'unknown topic');
        return access === 'allow';
      },
    });
    entry = { bus, handler };
    handlers.set(config, entry);
  }
  return entry;
}
