import { sleep } from '@repopulse/test-support';
import { expect, it } from 'vitest';
import { numberOf, publishNumbered, range, type ServerContext } from '../harness';

const JSON_ACCEPT = { Accept: 'application/json' };

/** The JSON long-poll on the same URL. */
export function longPollSuite(ctx: ServerContext): void {
  const poll = async (url: string) => {
    const res = await ctx.transport.request(url, { headers: JSON_ACCEPT });
    await res.ended;
    return { status: res.status, headers: res.headers, body: JSON.parse(res.text) };
  };

  it('answers at once with the events after `after`, no-store, and with none after wait=0', async () => {
    const { server, bus } = await ctx.start();
    const id = ctx.id('poll');
    const positions = await publishNumbered(bus, id, 0, 6);
    const answer = await poll(server.url(id, `?after=${positions[1]}&wait=5`));
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.body.events.map((e: { event: { payload: unknown } }) => numberOf(e.event))).toEqual(
      range(2, 4),
    );
    expect(answer.body.events.map((e: { position: string }) => e.position)).toEqual(positions.slice(2));
    expect(answer.body.position).toBe(positions.at(-1));
    expect(answer.body.reset).toBeUndefined();
    const empty = await poll(server.url(id, `?after=${positions.at(-1)}&wait=0`));
    expect(empty.body).toEqual({ events: [], position: positions.at(-1) });
  });

  it('holds a poll until an event is published, and answers a reset for a malformed `after`', async () => {
    const { server, bus } = await ctx.start();
    const id = ctx.id('wait');
    const [first] = await publishNumbered(bus, id, 0, 1);
    const waiting = poll(server.url(id, `?after=${first}&wait=10`));
    await sleep(100);
    const [second] = await publishNumbered(bus, id, 1, 1);
    const answer = await waiting;
    expect(answer.body.events.map((e: { position: string }) => e.position)).toEqual([second]);
    const reset = await poll(server.url(id, '?after=garbage&wait=0'));
    expect(reset.body.reset).toMatchObject({ reason: 'malformed', position: second });
    expect((await server.stats()).longPolls).toBe(0);
  });

  it('refuses a bad `wait` with 400 invalid_parameter', async () => {
    const { server } = await ctx.start();
    const answer = await poll(server.url(ctx.id('param'), '?wait=soon'));
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: 'invalid_parameter' } });
  });
}
