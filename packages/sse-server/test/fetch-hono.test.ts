// The Fetch adapter inside Hono 4 served by @hono/node-server: route params, headers, a real
// EventSource, HEAD/405, a client that stops reading is evicted, a client that leaves is counted.

import { createAdaptorServer } from '@hono/node-server';
import { createMemoryBus } from '@repopulse/bus-memory';
import { waitFor } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { EventSource } from 'eventsource';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { createFetchHandler, type FetchHandlerOptions } from '../src/fetch/index';
import { logEvent, numberOf, publishUntilEvicted, uniqueTopic } from './helpers/events';
import { listenHandler } from './helpers/listen-handler';
import { openNonReading, openRaw } from './helpers/raw-stream';

type Params = { id: string };

describe('createFetchHandler in Hono on @hono/node-server', () => {
  const cleanups = cleanupAfterEach();

  async function start(options: Partial<FetchHandlerOptions<Params>> = {}) {
    const bus = createMemoryBus();
    const events = createFetchHandler<Params>({
      bus,
      topic: (_request, params) => `repo:${params.id}`,
      ...options,
    });
    const app = new Hono();
    app.all('/repos/:id/events', (c) => events(c.req.raw, c.req.param()));
    const listening = await listenHandler(
      cleanups,
      bus,
      events,
      createAdaptorServer({ fetch: app.fetch }) as import('node:http').Server,
    );
    return { bus, events, origin: listening.origin, port: listening.port };
  }

  it('streams to a real EventSource with SSE headers, topic from the route params', async () => {
    const { bus, events, origin } = await start();
    const id = uniqueTopic('hono').slice('repo:'.length);
    const raw = await openRaw(`${origin}/repos/${id}/events`);
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe('text/event-stream');
    expect(raw.headers['cache-control']).toBe('no-cache, no-transform');
    expect(raw.headers['x-accel-buffering']).toBe('no');
    const source = new EventSource(`${origin}/repos/${id}/events`);
    const received: number[] = [];
    source.addEventListener('log.append', (e) => received.push(numberOf(JSON.parse(e.data))));
    await waitFor(() => events.stats().streams === 2, { what: 'two streams' });
    expect(bus.stats().subscriptions).toBe(1);
    for (let i = 1; i <= 20; i++) await bus.publish(`repo:${id}`, logEvent(i));
    await waitFor(() => received.length === 20, { what: '20 events' });
    expect(received).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    await raw.waitFor(() => raw.blocks().filter((b) => b.event === 'log.append').length === 20);
    source.close();
    raw.destroy();
    await waitFor(() => events.stats().closedByClient === 2, { what: 'request.signal ended both' });
    expect(events.stats()).toMatchObject({ streams: 0, connections: 0, topics: 0 });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('answers HEAD with headers only, POST with 405 + Allow, a JSON long-poll with a whole body', async () => {
    const { bus, events, origin } = await start();
    const id = uniqueTopic('hono-head').slice('repo:'.length);
    const url = `${origin}/repos/${id}/events`;
    const head = await fetch(url, { method: 'HEAD', headers: { Accept: 'text/event-stream' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
    const post = await fetch(url, { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    const { position } = await bus.publish(`repo:${id}`, logEvent(1));
    const poll = await fetch(`${url}?after=0-0&wait=0`, { headers: { Accept: 'application/json' } });
    expect(poll.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await poll.json()).toMatchObject({ position, events: [{ position }] });
    expect(events.stats()).toMatchObject({ connections: 0, rejected: 1, totalLongPolls: 1 });
  });

  it('evicts a client that stops reading once the body holds maxBufferedBytes unread', async () => {
    const { bus, events, port, origin } = await start({ maxBufferedBytes: 64 * 1024 });
    const id = uniqueTopic('hono-slow').slice('repo:'.length);
    const path = `/repos/${id}/events`;
    const stalled = await openNonReading(port, path);
    const reader = await openRaw(origin + path);
    await waitFor(() => events.stats().streams === 2, { what: 'two streams' });
    const published = await publishUntilEvicted(bus, events, `repo:${id}`);
    expect(events.stats().closedForBackpressure).toBe(1);
    await reader.waitFor(() => reader.blocks().filter((b) => b.event === 'log.append').length === published);
    expect(events.stats().streams).toBe(1);
    stalled.destroy();
    reader.destroy();
  });
});
