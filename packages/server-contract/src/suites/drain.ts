import { waitFor } from '@repopulse/test-support';
import { expect, it } from 'vitest';
import { openStream, type ServerContext } from '../harness';

/** `close({ graceMs })`: open streams end cleanly, new streams are drained, new polls get 503. */
export function drainSuite(ctx: ServerContext): void {
  it('close({ graceMs }) ends open streams cleanly, drains new streams (200, retry:, end) and answers polls 503', async () => {
    const { server } = await ctx.start({ retryMs: 700 });
    const id = ctx.id('drain');
    const open = await Promise.all([1, 2, 3].map(() => openStream(ctx, server, id)));
    await Promise.all(open.map((res) => res.waitFor((text) => text.includes(': ok\n\n'))));
    const poll = ctx.transport.request(server.url(id, '?wait=20'), {
      headers: { Accept: 'application/json' },
    });
    await waitFor(async () => (await server.stats()).longPolls === 1, { what: 'the waiting poll' });
    const closing = server.closeHandler({ graceMs: 600 });
    const answered = await poll;
    await answered.ended;
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.text)).toMatchObject({ events: [] });

    const late = await ctx.transport.request(server.url(id));
    await late.ended;
    expect(late.status).toBe(200);
    expect(late.headers['content-type']).toBe('text/event-stream');
    expect(late.text).toBe('retry: 700\n\n: ok\n\n');
    const latePoll = await ctx.transport.request(server.url(id), { headers: { Accept: 'application/json' } });
    await latePoll.ended;
    expect(latePoll.status).toBe(503);
    expect(latePoll.headers['retry-after']).toMatch(/^\d+$/);
    expect(JSON.parse(latePoll.text)).toMatchObject({ error: { code: 'shutting_down' } });

    await closing;
    await Promise.all(open.map((res) => res.ended));
    expect(await server.stats()).toMatchObject({ streams: 0, connections: 0, closedForShutdown: 3 });
  });
}
