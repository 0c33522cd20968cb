import { OptionsError } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson, openRaw, type RawResponse, startRequest } from '../../sse-server/test/helpers/raw-stream';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_MAX_CONNECTIONS_PER_KEY, signStreamToken } from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { serverStarter, startServer } from './helpers/server';

const factories = await busFactories('connection-limits');
const SECRET = 'limits-secret-0123456789';

describe.each(factories)('connection limits on the $name bus', (factory) => {
  const start = serverStarter(factory);
  const open: RawResponse[] = [];
  afterEach(async () => {
    for (const res of open.splice(0)) res.destroy();
  });

  const tokenFor = (sub: string) => signStreamToken({ sub }, SECRET, 60_000);

  it('by default one user (the token `sub`) gets at most 100 connections: the next one is 429 with Retry-After; others are unaffected', async () => {
    expect(DEFAULT_MAX_CONNECTIONS).toBe(10_000);
    expect(DEFAULT_MAX_CONNECTIONS_PER_KEY).toBe(100);
    const bus = await factory.create();
    const server = await start({ bus, tokenSecret: SECRET });
    const id = uniqueTopic('per-user').slice(5);
    const alice = tokenFor('alice');
    for (let i = 0; i < 100; i++) open.push(await openRaw(server.url(id, `?access_token=${alice}`)));
    expect(open.every((res) => res.status === 200)).toBe(true);
    const refused = await getJson(server.url(id, `?access_token=${alice}`), { Accept: 'text/event-stream' });
    expect(refused).toMatchObject({
      status: 429,
      body: { error: { code: 'too_many_connections_per_key', message: expect.any(String) } },
    });
    expect(refused.headers['retry-after']).toBe('3');
    // a long-poll counts against the same key
    const poll = await getJson(server.url(id, `?access_token=${alice}&wait=0`));
    expect(poll.status).toBe(429);
    const bob = await openRaw(server.url(id, `?access_token=${tokenFor('bob')}`));
    open.push(bob);
    expect(bob.status).toBe(200);
    expect(server.handler.stats()).toMatchObject({ streams: 101, rejected: 2 });
  });

  it('maxConnectionsPerKey with connectionKey: streams and long-polls count, a closed one frees its place', async () => {
    const bus = await factory.create();
    const server = await start({
      bus,
      maxConnectionsPerKey: 2,
      connectionKey: (req) => req.headers['x-user'] as string | undefined,
    });
    const id = uniqueTopic('per-key').slice(5);
    const as = (user: string) => ({ Accept: 'text/event-stream', 'X-User': user });
    const first = await openRaw(server.url(id), as('u1'));
    open.push(first);
    const waiting = startRequest(server.url(id, '?wait=20'), { Accept: 'application/json', 'X-User': 'u1' });
    await waitFor(() => server.handler.stats().longPolls === 1);
    const third = await getJson(server.url(id), as('u1'));
    expect(third).toMatchObject({ status: 429, body: { error: { code: 'too_many_connections_per_key' } } });
    // another key, and requests without a key, are not limited by u1's
    const other = await openRaw(server.url(id), as('u2'));
    open.push(other);
    expect(other.status).toBe(200);
    const anonymous = await openRaw(server.url(id));
    open.push(anonymous);
    expect(anonymous.status).toBe(200);
    waiting.destroy();
    await waitFor(() => server.handler.stats().longPolls === 0, { what: 'the poll to end' });
    const again = await openRaw(server.url(id), as('u1'));
    open.push(again);
    expect(again.status).toBe(200);
    first.destroy();
    again.destroy();
    await waitFor(() => server.handler.stats().streams === 2, { what: "u1's streams to close" });
  });

  it('checks the new options', async () => {
    const bus = await factory.create();
    for (const [name, value] of [
      ['maxConnectionsPerKey', 0],
      ['writeTimeoutMs', -1],
      ['longPollMaxEvents', 0],
      ['longPollMaxBytes', Number.NaN],
    ] as const) {
      await expect(startServer({ bus, [name]: value })).rejects.toThrow(OptionsError);
    }
    await expect(startServer({ bus, connectionKey: 'user' as never })).rejects.toThrow(OptionsError);
  });
});
