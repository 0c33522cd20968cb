import { waitFor } from '@repopulse/test-support';
import { expect, it } from 'vitest';
import type { ServerContext } from '../harness';
import { topicOf } from '../mount';
import { signToken } from '../token';

const SECRET = 'contract-secret-0123456789abcdef';

/** Refusals (401/403/404) before any stream byte, token transports, and expiry closing a stream. */
export function authSuite(ctx: ServerContext): void {
  it('refuses with 401 (missing, invalid, expired token), 403 (topic, authorize) and 404, as JSON', async () => {
    const { server } = await ctx.start({ tokenSecret: SECRET });
    const id = ctx.id('auth');
    const all = signToken(SECRET, { topics: ['contract:*'] }, 60_000);
    const cases: [string, Record<string, string>, number, string][] = [
      [id, {}, 401, 'missing_token'],
      [id, { Authorization: 'Bearer not.a-token' }, 401, 'invalid_token'],
      [
        id,
        { Authorization: `Bearer ${signToken('another-secret-0123456789abcdef', {}, 60_000)}` },
        401,
        'invalid_token',
      ],
      [
        id,
        { Authorization: `Bearer ${signToken(SECRET, {}, 1_000, Date.now() - 5_000)}` },
        401,
        'token_expired',
      ],
      [
        id,
        { Authorization: `Bearer ${signToken(SECRET, { topics: ['contract:other'] }, 60_000)}` },
        403,
        'forbidden',
      ],
      [`forbidden-${id}`, { Authorization: `Bearer ${all}` }, 403, 'forbidden'],
      [`missing-${id}`, { Authorization: `Bearer ${all}` }, 404, 'not_found'],
    ];
    for (const [routeId, headers, status, code] of cases) {
      for (const accept of ['text/event-stream', 'application/json']) {
        const res = await ctx.transport.request(server.url(routeId), {
          headers: { Accept: accept, ...headers },
        });
        await res.ended;
        expect(res.status, `${code} (${accept})`).toBe(status);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(JSON.parse(res.text)).toMatchObject({ error: { code } });
        if (status === 401) expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
      }
    }
    expect(await server.stats()).toMatchObject({ connections: 0, streams: 0 });
  });

  it('accepts a token from Authorization: Bearer, ?access_token= and the repopulse_token cookie', async () => {
    const { server } = await ctx.start({ tokenSecret: SECRET });
    const id = ctx.id('token');
    const token = signToken(SECRET, { topics: [topicOf(id)] }, 60_000);
    const ways = [
      ctx.transport.request(server.url(id), {
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}` },
      }),
      ctx.transport.request(server.url(id, `?access_token=${token}`)),
      ctx.transport.request(server.url(id), {
        headers: { Accept: 'text/event-stream', Cookie: `repopulse_token=${token}` },
      }),
    ];
    for (const res of await Promise.all(ways)) {
      ctx.defer(() => res.destroy());
      expect(res.status).toBe(200);
      await res.waitFor((text) => text.includes(': ok\n\n'));
    }
  });

  it('ends a stream cleanly when its token expires, and answers a long-poll at the expiry', async () => {
    const { server } = await ctx.start({ tokenSecret: SECRET });
    const id = ctx.id('expiry');
    const token = signToken(SECRET, { topics: [topicOf(id)] }, 400);
    const res = await ctx.transport.request(server.url(id, `?access_token=${token}`));
    ctx.defer(() => res.destroy());
    expect(res.status).toBe(200);
    await res.ended;
    expect(res.text).toContain(': ok\n\n');
    await waitFor(async () => (await server.stats()).closedForTokenExpiry === 1, {
      what: 'the expiry count',
    });
    const pollToken = signToken(SECRET, { topics: [topicOf(id)] }, 400);
    const poll = await ctx.transport.request(server.url(id, `?access_token=${pollToken}&wait=20`), {
      headers: { Accept: 'application/json' },
    });
    await poll.ended;
    expect(poll.status).toBe(200);
    expect(JSON.parse(poll.text)).toMatchObject({ events: [] });
    expect(await server.stats()).toMatchObject({ streams: 0, longPolls: 0 });
  });
}
