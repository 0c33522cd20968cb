// The node adapter inside a plain `node:http` server: headers, HEAD/405, events, a client that
// stops reading is evicted, a client that leaves is counted, close() ends streams.
import { createServer } from 'node:http';
import { createMemoryBus } from '@repopulse/bus-memory';
import { waitFor } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { describe, expect, it } from 'vitest';
import { createNodeHandler } from '../src/node/index';
import { logEvent, publishUntilEvicted, uniqueTopic } from './helpers/events';
import { listenHandler } from './helpers/listen-handler';
import { getJson, openNonReading, openRaw } from './helpers/raw-stream';

describe('createNodeHandler on node:http', () => {
  const cleanups = cleanupAfterEach();

  /** Serves `/events/<topic>`; anything else is 404 from the test's router. */
  async function start(options: Partial<Parameters<typeof createNodeHandler>[0]> = {}) {
    const bus = createMemoryBus();
    const events = createNodeHandler({
      bus,
      topic: (req) => decodeURIComponent((req.url ?? '').split('?')[0]?.slice('/events/'.length) ?? ''),
      ...options,
    });
    const listening = await listenHandler(
      cleanups,
      bus,
      events,
      createServer((req, res) => {
        if (req.url?.startsWith('/events/')) events(req, res);
        else res.writeHead(404).end();
      }),
    );
    return { bus, events, origin: listening.origin, port: listening.port };
  }

  it('streams with SSE headers and keep-alive, live events in order, and counts the client leaving', async () => {
    const { bus, events, origin } = await start();
    const topic = uniqueTopic('node');
    const res = await openRaw(`${origin}/events/${encodeURIComponent(topic)}`);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream');
    expect(res.headers['cache-control']).toBe('no-cache, no-transform');
    expect(res.headers.connection).toBe('keep-alive');
    await res.waitFor((text) => text.includes(': ok'));
    await waitFor(() => events.stats().streams === 1, { what: 'one stream' });
    const first = await bus.publish(topic, logEvent(1));
    await bus.publish(topic, logEvent(2));
    await res.waitFor(() => res.blocks().filter((b) => b.event === 'log.append').length === 2);
    expect(res.blocks().find((b) => b.event === 'log.append')?.id).toBe(first.position);
    res.destroy();
    await waitFor(() => events.stats().closedByClient === 1, { what: 'client close counted' });
    expect(events.stats()).toMatchObject({ streams: 0, connections: 0, topics: 0 });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('answers HEAD with the headers only and other methods with 405 + Allow', async () => {
    const { events, origin } = await start();
    const url = `${origin}/events/${encodeURIComponent(uniqueTopic('head'))}`;
    const head = await fetch(url, { method: 'HEAD', headers: { Accept: 'text/event-stream' } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('text/event-stream');
    const post = await fetch(url, { method: 'POST', headers: { Accept: 'application/json' } });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect(await post.json()).toMatchObject({ error: { code: 'method_not_allowed' } });
    expect(events.stats()).toMatchObject({ connections: 0, rejected: 1 });
  });

  it('serves a JSON long-poll on the same URL', async () => {
    const { bus, origin } = await start();
    const topic = uniqueTopic('poll');
    const { position } = await bus.publish(topic, logEvent(1));
    const answer = await getJson(`${origin}/events/${encodeURIComponent(topic)}?after=0-0&wait=0`);
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ position, events: [{ position }] });
  });

  it('evicts a client that stops reading once it holds maxBufferedBytes, sparing a reading one', async () => {
    const { bus, events, port, origin } = await start({ maxBufferedBytes: 64 * 1024 });
    const topic = uniqueTopic('slow');
    const path = `/events/${encodeURIComponent(topic)}`;
    const stalled = await openNonReading(port, path);
    const reader = await openRaw(origin + path);
    await waitFor(() => events.stats().streams === 2, { what: 'two streams' });
    const published = await publishUntilEvicted(bus, events, topic);
    expect(events.stats().closedForBackpressure).toBe(1);
    await reader.waitFor(() => reader.blocks().filter((b) => b.event === 'log.append').length === published);
    expect(events.stats().streams).toBe(1);
    stalled.destroy();
    reader.destroy();
  });

  it('close() ends open streams cleanly and counts them', async () => {
    const { events, origin } = await start();
    const res = await openRaw(`${origin}/events/${encodeURIComponent(uniqueTopic('close'))}`);
    await waitFor(() => events.stats().streams === 1, { what: 'one stream' });
    await events.close();
    await res.ended;
    expect(events.stats()).toMatchObject({ closedForShutdown: 1, streams: 0, closing: true });
  });
});
