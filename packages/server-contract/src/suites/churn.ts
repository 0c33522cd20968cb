import { waitFor } from '@repopulse/test-support';
import { expect, it } from 'vitest';
import type { ServerContext } from '../harness';

/** Many connects and disconnects leave nothing behind. */
export function churnSuite(ctx: ServerContext): void {
  it('connect/disconnect churn of streams and long-polls leaves every count at zero', async () => {
    const { server, bus } = await ctx.start();
    const ids = Array.from({ length: 5 }, (_, i) => ctx.id(`churn${i}`));
    for (let round = 0; round < 6; round++) {
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          const id = ids[i % ids.length]!;
          if (i % 3 === 0) {
            // A long-poll that waits (no response headers yet), aborted by its client.
            const abort = new AbortController();
            const poll = ctx.transport.request(server.url(id, '?wait=20'), {
              headers: { Accept: 'application/json' },
              signal: abort.signal,
            });
            poll.catch(() => {});
            setTimeout(() => abort.abort(), 5 + (i % 20));
            return;
          }
          const res = await ctx.transport.request(server.url(id));
          await res.waitFor((text) => text.includes(': ok\n\n'));
          res.destroy();
        }),
      );
    }
    await waitFor(
      async () => {
        const stats = await server.stats();
        return stats.connections === 0 && stats.streams === 0 && stats.longPolls === 0 && stats.topics === 0;
      },
      { what: 'every count back to zero' },
    );
    expect(await server.stats()).toMatchObject({ connections: 0, streams: 0, longPolls: 0, topics: 0 });
    await waitFor(() => bus.stats().subscriptions === 0, { what: 'bus subscriptions released' });
  });
}
