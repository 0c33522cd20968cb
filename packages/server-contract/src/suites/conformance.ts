import { runConformance } from '@repopulse/conformance';
import { expect, it } from 'vitest';
import { publishNumbered, type ServerContext } from '../harness';
import { signToken } from '../token';

const SECRET = 'contract-conformance-secret-0123456789';

/** The published conformance kit passes against the server, every check run. */
export function conformanceSuite(ctx: ServerContext): void {
  it('passes every check of @repopulse/conformance', async () => {
    const { server, bus } = await ctx.start({ tokenSecret: SECRET });
    const id = ctx.id('conformance');
    await publishNumbered(bus, id, 0, 5);
    const results = await runConformance({
      url: server.url(id),
      token: signToken(SECRET, { topics: ['contract:*'] }, 60_000),
      forbiddenUrl: server.url(`forbidden-${id}`),
      fetch: ctx.transport.fetch,
    });
    expect(results.filter((result) => result.status !== 'pass')).toEqual([]);
  });
}
