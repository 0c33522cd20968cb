import { createFetchHandler } from '@repopulse/sse-server/fetch';
import { bus } from './bus.js';

const ROUTE = /^\/api\/repositories\/(\d+)\/events$/;

const events = createFetchHandler({
  bus,
  topic: (request) => `repo:${ROUTE.exec(new URL(request.url).pathname)?.[1]}`,
});

// `bun run fetch-runtime.ts` and `deno serve fetch-runtime.ts` both serve a default export's `fetch`.
export default {
  fetch(request: Request): Promise<Response> | Response {
    if (ROUTE.test(new URL(request.url).pathname)) return events(request);
    return new Response('Not found', { status: 404 });
  },
};
