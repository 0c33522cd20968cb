import { createHmac } from 'node:crypto';
import { isRepoPulseError, OptionsError } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { logEvent, uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson, openRaw } from '../../sse-server/test/helpers/raw-stream';
import { STREAM_TOKEN_AUDIENCE, StreamHttpError, signStreamToken, verifyStreamToken } from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { serverStarter, startServer } from './helpers/server';

const SECRET = 'test-secret-0123456789abcdef';

describe('stream tokens', () => {
  it('round-trips claims with iat/exp in milliseconds', () => {
    const token = signStreamToken({ sub: 'u1', topics: ['repo:1'], role: 'viewer' }, SECRET, 60_000, 1_000);
    expect(token).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyStreamToken(token, SECRET, { now: 2_000 })).toEqual({
      sub: 'u1',
      topics: ['repo:1'],
      role: 'viewer',
      aud: 'repopulse:stream',
      iat: 1_000,
      exp: 61_000,
    });
  });

  it('refuses tampered, foreign, malformed and expired tokens with typed 401 errors', () => {
    const token = signStreamToken({ topics: ['repo:1'] }, SECRET, 1_000, 1_000);
    const [body, sig] = token.split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ topics: ['repo:*'], iat: 1_000, exp: 9e15 })).toString(
      'base64url',
    );
    const cases: [string, string][] = [
      [`${forged}.${sig}`, 'invalid_token'],
      [`${body}.${sig.slice(0, -2)}AA`, 'invalid_token'],
      [signStreamToken({}, 'another-secret-0123456789', 1_000, 1_000), 'invalid_token'],
      ['nodot', 'invalid_token'],
      ['a.b.c', 'invalid_token'],
      ['', 'invalid_token'],
      [token, 'token_expired'],
    ];
    for (const [candidate, code] of cases) {
      let caught: unknown;
      try {
        verifyStreamToken(candidate, SECRET, { now: 5_000 });
      } catch (error) {
        caught = error;
      }
      expect(caught, candidate).toBeInstanceOf(StreamHttpError);
      expect(caught).toMatchObject({ status: 401, code });
    }
  });

  it('a token is accepted only for its audience: stream tokens and tokens signed for another use never stand in for each other', () => {
    const stream = signStreamToken({ sub: 'u1' }, SECRET, 60_000);
    const session = signStreamToken({ sub: 'u1' }, SECRET, 60_000, { audience: 'app:session' });
    expect(verifyStreamToken(stream, SECRET)).toMatchObject({ sub: 'u1', aud: STREAM_TOKEN_AUDIENCE });
    expect(verifyStreamToken(session, SECRET, { audience: 'app:session' })).toMatchObject({
      sub: 'u1',
      aud: 'app:session',
    });
    expect(() => verifyStreamToken(session, SECRET)).toThrow(
      expect.objectContaining({ status: 401, code: 'invalid_token' }),
    );
    expect(() => verifyStreamToken(stream, SECRET, { audience: 'app:session' })).toThrow(
      expect.objectContaining({ status: 401, code: 'invalid_token' }),
    );
    // A claim named `aud` cannot override the audience, and a token without one is refused.
    const smuggled = signStreamToken({ sub: 'u1', aud: 'app:session' }, SECRET, 60_000);
    expect(verifyStreamToken(smuggled, SECRET).aud).toBe(STREAM_TOKEN_AUDIENCE);
    const body = Buffer.from(
      JSON.stringify({ sub: 'u1', iat: Date.now(), exp: Date.now() + 60_000 }),
    ).toString('base64url');
    const noAudience = `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url')}`;
    expect(() => verifyStreamToken(noAudience, SECRET)).toThrow(
      expect.objectContaining({ code: 'invalid_token' }),
    );
    expect(() => signStreamToken({}, SECRET, 1000, { audience: '' })).toThrow(OptionsError);
  });

  it('accepts only the canonical base64url of the signature and the claims', () => {
    const token = signStreamToken({ sub: 'u1' }, SECRET, 60_000);
    const [body, sig] = token.split('.') as [string, string];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // The last character of a 32-byte signature carries 2 unused bits: 3 other characters decode
    // to the very same bytes.
    const last = alphabet.indexOf(sig.at(-1) as string);
    const variants = [1, 2, 3].map((bits) => `${sig.slice(0, -1)}${alphabet[last | bits]}`);
    for (const variant of variants) {
      expect(Buffer.from(variant, 'base64url')).toEqual(Buffer.from(sig, 'base64url'));
      expect(() => verifyStreamToken(`${body}.${variant}`, SECRET)).toThrow(
        expect.objectContaining({ status: 401, code: 'invalid_token' }),
      );
    }
    expect(() => verifyStreamToken(`${body}.${sig}=`, SECRET)).toThrow(
      expect.objectContaining({ code: 'invalid_token' }),
    );
    expect(verifyStreamToken(token, SECRET).sub).toBe('u1');
  });

  it('verifies with any key of a rotation list and rejects short secrets', () => {
    const oldToken = signStreamToken({ sub: 'a' }, 'old-secret-0123456789', 60_000);
    expect(verifyStreamToken(oldToken, ['new-secret-0123456789', 'old-secret-0123456789']).sub).toBe('a');
    expect(() => signStreamToken({}, 'short', 1000)).toThrow(OptionsError);
    expect(() => signStreamToken({}, SECRET, 0)).toThrow(OptionsError);
  });
});

const factories = await busFactories('auth');

describe.each(factories)('auth and refusals on the $name bus', (factory) => {
  const start = serverStarter(factory);

  const KNOWN = new Set(['a', 'b', 'exp']);
  const startAuthServer = async (extra: Partial<Parameters<typeof startServer>[0]> = {}) => {
    const bus = await factory.create();
    const prefix = uniqueTopic('auth').slice(5);
    const server = await start({
      bus,
      tokenSecret: SECRET,
      topic: (req) => `repo:${prefix}-${req.params.id}`,
      authorize: (req) => {
        if (req.params.id === 'denied') return false;
        if (!KNOWN.has(req.params.id!) && req.params.id !== 'denied') {
          throw new StreamHttpError(404, 'not_found', 'unknown repository');
        }
        return true;
      },
      ...extra,
    });
    const token = (id: string, ttlMs = 60_000, now = Date.now()) =>
      signStreamToken({ sub: 'u', topics: [`repo:${prefix}-${id}`] }, SECRET, ttlMs, now);
    return { bus, s: server, token, topic: (id: string) => `repo:${prefix}-${id}` };
  };

  const expectRefusal = async (
    url: string,
    status: number,
    code: string,
    headers: Record<string, string> = {},
  ) => {
    const res = await getJson(url, { Accept: 'text/event-stream', ...headers });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.body).toMatchObject({ error: { code, message: expect.any(String) } });
    return res;
  };

  it('no token → 401, bad token → 401, token for repo A on repo B → 403, unknown repo → 404, authorize false → 403', async () => {
    const { bus, s, token } = await startAuthServer();
    const missing = await expectRefusal(s.url('a'), 401, 'missing_token');
    expect(missing.headers['www-authenticate']).toBe('Bearer');
    const invalid = await expectRefusal(s.url('a', '?access_token=not.valid'), 401, 'invalid_token');
    expect(invalid.headers['www-authenticate']).toBe('Bearer');
    await expectRefusal(s.url('b', `?access_token=${token('a')}`), 403, 'forbidden');
    await expectRefusal(s.url('nope', `?access_token=${token('nope')}`), 404, 'not_found');
    await expectRefusal(s.url('denied', `?access_token=${token('denied')}`), 403, 'forbidden');
    // long-poll is refused the same way
    const lp = await getJson(s.url('b', `?access_token=${token('a')}`));
    expect(lp).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    expect(s.handler.stats()).toMatchObject({ rejected: 6, totalStreams: 0, connections: 0 });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('accepts the token from Authorization: Bearer, ?access_token= and the cookie', async () => {
    const { bus, s, token, topic } = await startAuthServer({ tokenCookie: 'st' });
    const clients = await Promise.all([
      openRaw(s.url('a'), { Accept: 'text/event-stream', Authorization: `Bearer ${token('a')}` }),
      openRaw(s.url('a', `?access_token=${token('a')}`)),
      openRaw(s.url('a'), { Accept: 'text/event-stream', Cookie: `other=1; st=${token('a')}` }),
    ]);
    for (const c of clients) expect(c.status).toBe(200);
    await waitFor(() => s.handler.stats().streams === 3);
    expect(bus.stats().subscriptions).toBe(1); // one per topic, however many streams
    const { position } = await bus.publish(topic('a'), logEvent(1, 'a'));
    await Promise.all(clients.map((c) => c.waitFor((t) => t.includes(`id: ${position}\n`))));
    // a cookie named differently is not a token
    await expectRefusal(s.url('a'), 401, 'missing_token', { Cookie: `repopulse_token=${token('a')}` });
    for (const c of clients) c.destroy();
  });

  it('closes a stream when its token expires', async () => {
    const { bus, s, token, topic } = await startAuthServer();
    const res = await openRaw(s.url('exp', `?access_token=${token('exp', 400)}`));
    expect(res.status).toBe(200);
    await res.waitFor((t) => t.includes(': ok'));
    await waitFor(() => bus.stats().subscriptions === 1);
    const { position } = await bus.publish(topic('exp'), logEvent(1, 'exp'));
    await res.waitFor((t) => t.includes(`id: ${position}\n`));
    await res.ended;
    expect(s.handler.stats()).toMatchObject({ closedForTokenExpiry: 1, streams: 0 });
    expect(bus.stats().subscriptions).toBe(0);
    // reconnecting with the expired token is refused
    const expired = await expectRefusal(
      s.url('exp', `?access_token=${token('exp', 400, Date.now() - 1000)}`),
      401,
      'token_expired',
    );
    expect(expired.headers['www-authenticate']).toBe('Bearer');
    // a token signed for another audience (a session, say) is no stream token
    const session = signStreamToken({ sub: 'u' }, SECRET, 60_000, { audience: 'app:session' });
    const wrong = await expectRefusal(s.url('exp', `?access_token=${session}`), 401, 'invalid_token');
    expect(wrong.headers['www-authenticate']).toBe('Bearer');
  });

  it('closes a stream at the deadline authorize returns', async () => {
    const bus = await factory.create();
    const server = await start({ bus, authorize: () => ({ expiresAt: Date.now() + 300 }) });
    const res = await openRaw(server.url(uniqueTopic('dl').slice(5)));
    expect(res.status).toBe(200);
    await res.ended;
    expect(server.handler.stats().closedForTokenExpiry).toBe(1);
  });

  it('400 for a bad topic or parameter, 503 beyond maxConnections (with Retry-After), 500 on a throwing callback', async () => {
    const { s, token } = await startAuthServer({ maxConnections: 2 });
    await expectRefusal(s.url('a\nb', `?access_token=${token('a')}`), 400, 'invalid_topic');
    const bad = await getJson(s.url('a', `?access_token=${token('a')}&wait=soon`));
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'invalid_parameter' } } });

    const open = await Promise.all([
      openRaw(s.url('a', `?access_token=${token('a')}`)),
      openRaw(s.url('b', `?access_token=${token('b')}`)),
    ]);
    for (const c of open) expect(c.status).toBe(200);
    const full = await expectRefusal(s.url('a', `?access_token=${token('a')}`), 503, 'too_many_connections');
    expect(full.headers['retry-after']).toBe('3');
    open[0]!.destroy();
    await waitFor(() => s.handler.stats().connections === 1);
    const again = await openRaw(s.url('a', `?access_token=${token('a')}`));
    expect(again.status).toBe(200);
    again.destroy();
    open[1]!.destroy();

    const bus = await factory.create();
    const errors: unknown[] = [];
    const crashing = await startServer({
      bus,
      topic: () => {
        throw new Error('db down');
      },
    });
    try {
      // Express: an unexpected error goes to next(err) → Express's own 500.
      const res = await openRaw(crashing.url('x'));
      await res.ended;
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).not.toBe('text/event-stream');
    } finally {
      await crashing.close();
    }
    // The bare core answers JSON 500 and reports to onError.
    const { createEventStreamCore } = await import('../src/index');
    const core = createEventStreamCore({
      bus,
      topic: () => Promise.reject(new Error('db down')),
      onError: (e) => errors.push(e),
    });
    const { createServer } = await import('node:http');
    const plain = createServer((req, res) => void core.handle(req, res));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    try {
      const address = plain.address() as { port: number };
      const res = await getJson(`http://127.0.0.1:${address.port}/`, { Accept: 'text/event-stream' });
      expect(res).toMatchObject({
        status: 500,
        body: { error: { code: 'internal_error', message: 'internal error' } },
      });
      expect(errors).toHaveLength(1);
    } finally {
      await new Promise((r) => plain.close(r));
    }
  });

  it('503 bus_closed (never a 200 stream) on a closed bus, reported to onError once', async () => {
    const bus = await factory.create();
    const errors: unknown[] = [];
    const server = await start({ bus, onError: (e) => errors.push(e) });
    await bus.close();
    const id = uniqueTopic('closed').slice(5);
    const sse = await getJson(server.url(id), { Accept: 'text/event-stream' });
    expect(sse).toMatchObject({ status: 503, body: { error: { code: 'bus_closed' } } });
    expect(sse.headers['retry-after']).toBe('3');
    const lp = await getJson(server.url(id, '?after=1-0'));
    expect(lp).toMatchObject({ status: 503, body: { error: { code: 'bus_closed' } } });
    const again = await getJson(server.url(id), { Accept: 'text/event-stream' });
    expect(again).toMatchObject({ status: 503, body: { error: { code: 'bus_closed' } } });
    expect(errors).toHaveLength(1);
    expect(isRepoPulseError(errors[0], 'bus_closed')).toBe(true);
    expect(server.handler.stats()).toMatchObject({ connections: 0, topics: 0, streams: 0, rejected: 3 });
  });
});
