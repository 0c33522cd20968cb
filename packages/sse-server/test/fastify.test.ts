// The Fastify adapter inside Fastify 5: an `onRequest` hook authenticates (and refuses) before
// the handler; `topic`/`authorize`/`connectionKey` get Fastify's typed request; HEAD, events,
// eviction of a client that stops reading, close.
import { createMemoryBus } from '@repopulse/bus-memory';
import { waitFor } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import Fastify, { type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { createFastifyHandler } from '../src/fastify/index';
import { logEvent, publishUntilEvicted, uniqueTopic } from './helpers/events';
import { getJson, openNonReading, openRaw } from './helpers/raw-stream';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the test's `onRequest` auth hook. */
    user?: { id: string; repos: string[] };
  }
}

type EventsRequest = FastifyRequest<{ Params: { id: string } }>;

const USERS: Record<string, { id: string; repos: string[] }> = {
  'key-alice': { id: 'alice', repos: [] },
};

describe('createFastifyHandler in Fastify 5', () => {
  const cleanups = cleanupAfterEach();

  async function start(maxBufferedBytes?: number) {
    const bus = createMemoryBus();
    const events = createFastifyHandler<EventsRequest>({
      bus,
      topic: (request) => `repo:${request.params.id}`,
      authorize: (request, { topic }) => request.user?.repos.includes(topic) ?? false,
      connectionKey: (request) => request.user?.id,
      maxConnectionsPerKey: 2,
      ...(maxBufferedBytes ? { maxBufferedBytes } : {}),
    });
    const app = Fastify();
    cleanups.push(
      () => bus.close(),
      () => app.close(),
      () => events.close(),
    );
    app.addHook('onRequest', async (request, reply) => {
      const user = USERS[String(request.headers['x-api-key'])];
      if (!user) return reply.code(401).send({ error: { code: 'unauthenticated', message: 'no key' } });
      request.user = user;
    });
    app.get('/repos/:id/events', events);
    app.all('/any-method/:id/events', events);
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(origin).port);
    return { bus, events, origin, port };
  }

  it('the onRequest hook refuses before the handler; authorize and connectionKey see its decorations', async () => {
    const { events, origin } = await start();
    const id = uniqueTopic('fastify').slice('repo:'.length);
    USERS['key-alice']!.repos = [`repo:${id}`];
    const url = `${origin}/repos/${id}/events`;
    const anonymous = await getJson(url);
    expect(anonymous.status).toBe(401);
    expect(events.stats().rejected).toBe(0); // refused by the hook: the handler never ran
    const forbidden = await getJson(`${origin}/repos/other-${id}/events`, {
      Accept: 'application/json',
      'x-api-key': 'key-alice',
    });
    expect(forbidden.status).toBe(403);
    const streams = [
      await openRaw(url, { Accept: 'text/event-stream', 'x-api-key': 'key-alice' }),
      await openRaw(url, { Accept: 'text/event-stream', 'x-api-key': 'key-alice' }),
    ];
    const third = await getJson(url, { Accept: 'text/event-stream', 'x-api-key': 'key-alice' });
    expect(third.status).toBe(429); // counted against alice, the hook's user
    for (const s of streams) s.destroy();
  });

  it('streams with SSE headers, answers HEAD, and counts the client leaving', async () => {
    const { bus, events, origin } = await start();
    const id = uniqueTopic('fastify-sse').slice('repo:'.length);
    USERS['key-alice']!.repos = [`repo:${id}`];
    const headers = { Accept: 'text/event-stream', 'x-api-key': 'key-alice' };
    const url = `${origin}/repos/${id}/events`;
    const head = await fetch(url, { method: 'HEAD', headers });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
    const post = await fetch(`${origin}/any-method/${id}/events`, { method: 'POST', headers });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    const res = await openRaw(url, headers);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers.connection).toBe('keep-alive');
    await waitFor(() => events.stats().streams === 1, { what: 'one stream' });
    for (let i = 1; i <= 5; i++) await bus.publish(`repo:${id}`, logEvent(i));
    await res.waitFor(() => res.blocks().filter((b) => b.event === 'log.append').length === 5);
    res.destroy();
    await waitFor(() => events.stats().closedByClient === 1, { what: 'client close counted' });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('evicts a client that stops reading, sparing a reading one; close() ends the rest', async () => {
    const { bus, events, origin, port } = await start(64 * 1024);
    const id = uniqueTopic('fastify-slow').slice('repo:'.length);
    USERS['key-alice']!.repos = [`repo:${id}`];
    const path = `/repos/${id}/events`;
    const stalled = await openNonReadingWithKey(port, path);
    const reader = await openRaw(origin + path, { Accept: 'text/event-stream', 'x-api-key': 'key-alice' });
    await waitFor(() => events.stats().streams === 2, { what: 'two streams' });
    const published = await publishUntilEvicted(bus, events, `repo:${id}`);
    expect(events.stats().closedForBackpressure).toBe(1);
    await reader.waitFor(() => reader.blocks().filter((b) => b.event === 'log.append').length === published);
    await events.close();
    await reader.ended;
    expect(events.stats()).toMatchObject({ closedForShutdown: 1, streams: 0 });
    stalled.destroy();
  });
});

/** {@link openNonReading} with the test's API key. */
function openNonReadingWithKey(port: number, path: string) {
  return openNonReading(port, path, { 'x-api-key': 'key-alice' });
}
