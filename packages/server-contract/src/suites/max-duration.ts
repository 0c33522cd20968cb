import { sleep, waitFor } from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import { expect, it } from 'vitest';
import { numberOf, publishNumbered, range, type ServerContext } from '../harness';

/** `maxDurationMs`: streams end before the limit with `retry:`, and clients resume losing nothing. */
export function maxDurationSuite(ctx: ServerContext): void {
  it('ends a stream before maxDurationMs with a retry: line, cleanly', async () => {
    const { server } = await ctx.start({ maxDurationMs: 300, retryMs: 40 });
    const res = await ctx.transport.request(server.url(ctx.id('duration')));
    ctx.defer(() => res.destroy());
    await res.ended;
    expect(res.text.startsWith('retry: 40\n\n: ok\n\n')).toBe(true);
    expect(res.text.slice('retry: 40\n\n: ok\n\n'.length)).toMatch(/retry: \d+\n\n$/);
    expect(await server.stats()).toMatchObject({ streams: 0 });
  });

  it('an EventSource reconnects after each end and receives every event once, in order', async () => {
    const { server, bus } = await ctx.start({ maxDurationMs: 250, retryMs: 20 });
    const id = ctx.id('duration-es');
    const source = new EventSource(server.url(id), { fetch: ctx.transport.fetch });
    ctx.defer(() => source.close());
    let opens = 0;
    const got: number[] = [];
    source.addEventListener('open', () => {
      opens++;
    });
    source.addEventListener('log.append', (message) => got.push(numberOf(message.data)));
    await waitFor(() => opens === 1, { what: 'the stream' });
    // Publish across several stream lifetimes (each ends within 0.9–1 × maxDurationMs).
    let published = 0;
    while (published < 60 || opens < 3) {
      await publishNumbered(bus, id, published, 3);
      published += 3;
      await sleep(20);
    }
    await waitFor(() => got.length >= published, { what: 'every event' });
    await sleep(30);
    expect(got).toEqual(range(0, published));
    expect(opens).toBeGreaterThanOrEqual(3);
  });
}
