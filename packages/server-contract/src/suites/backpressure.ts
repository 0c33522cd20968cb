import { waitFor } from '@repopulse/test-support';
import { expect, it } from 'vitest';
import { numbered, numberOf, range, type ServerContext } from '../harness';
import { topicOf } from '../mount';

/** A client that stops reading is evicted; one that reads gets everything. */
export function backpressureSuite(ctx: ServerContext): void {
  it('evicts streams that stop reading once their unsent bytes pass maxBufferedBytes, sparing a reader', async () => {
    const { server, bus } = await ctx.start({ maxBufferedBytes: 128 * 1024 });
    const id = ctx.id('backpressure');
    const stalled = await Promise.all([1, 2, 3].map(() => ctx.transport.request(server.url(id))));
    for (const res of stalled) {
      ctx.defer(() => res.destroy());
      await res.waitFor((text) => text.includes(': ok\n\n'));
      res.pause();
    }
    const reader = await ctx.transport.request(server.url(id));
    ctx.defer(() => reader.destroy());
    await waitFor(async () => (await server.stats()).streams === 4, { what: 'four streams' });
    let published = 0;
    const evicted = async () => (await server.stats()).closedForBackpressure >= 3;
    // Stats are read every 20 events: a mount in another process answers them over HTTP.
    while (published < 3000 && (published % 20 !== 0 || !(await evicted()))) {
      await bus.publish(topicOf(id), numbered(published, 8000));
      published++;
      // A reader that keeps up: one 8 KB event per turn of the event loop (an HTTP/2 reader also
      // needs its window updates to reach the server between bursts).
      await new Promise((resolve) => setImmediate(resolve));
    }
    const stats = await server.stats();
    expect(stats.closedForBackpressure, `after ${published} events: ${JSON.stringify(stats)}`).toBe(3);
    // Far fewer events than the 3 × 24 MB the stalled clients would otherwise hold.
    expect(published).toBeLessThan(3000);
    await reader.waitFor(
      (text) => text.split('event: log.append').length - 1 === published,
      30_000,
      'every event at the reader',
    );
    expect(reader.messages().map((m) => numberOf(m.data!))).toEqual(range(0, published));
    expect(await server.stats()).toMatchObject({ streams: 1, closedForBackpressure: 3 });
  }, 60_000);
}
