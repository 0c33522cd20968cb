// The Fetch example (src/fetch-runtime.ts) as Bun or Deno serve it, plus `POST /publish`, so a
// test in another process can publish on this process's in-memory bus. Run with
// `bun --conditions=@repopulse/source run` or `deno serve --conditions=@repopulse/source`.
import { createEvent } from '@repopulse/events-core';
import { bus } from '../src/bus.js';
import app from '../src/fetch-runtime.js';

export default {
  async fetch(request: Request): Promise<Response> {
    if (request.method === 'POST' && new URL(request.url).pathname === '/publish') {
      const { percent } = (await request.json()) as { percent: number };
      const { position } = await bus.publish(
        'repo:42',
        createEvent('task.progress', { phase: 'runtime', percent }, { repo_id: 42 }),
      );
      return Response.json({ position });
    }
    return app.fetch(request);
  },
};
