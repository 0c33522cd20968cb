// The Fetch adapter with Node's own Request/Response and no HTTP server: our client reads the
// Response body; a reader that stops pulling is evicted; aborting the request ends the stream.
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEventStream } from '@repopulse/client';
import type { EventBus } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { createFetchHandler, type FetchHandler } from '../src/fetch/index';
import { logEvent, numberOf, publishUntilEvicted, uniqueTopic } from './helpers/events';

const ORIGIN = 'http://in-process.test';

describe('createFetchHandler with Node Request/Response', () => {
  let bus: EventBus | undefined;
  let handler: FetchHandler | undefined;
  afterEach(async () => {
    await handler?.close();
    await bus?.close();
    handler = bus = undefined;
  });

  function start(maxBufferedBytes?: number) {
    bus = createMemoryBus();
    const topicOf = (request: Request) =>
      decodeURIComponent(new URL(request.url).pathname.slice('/events/'.length));
    const events = createFetchHandler({
      bus,
      topic: topicOf,
      ...(maxBufferedBytes ? { maxBufferedBytes } : {}),
    });
    handler = events;
    return { bus, events };
  }

  it('@repopulse/client reads the Response body: events in order, then closing the client aborts the request', async () => {
    const { bus, events } = start();
    const topic = uniqueTopic('fetch');
    const stream = createEventStream(`${ORIGIN}/events/${encodeURIComponent(topic)}`, {
      fetch: (input, init) => events(new Request(input, init)),
    });
    const received: number[] = [];
    stream.on('log.append', (event) => received.push(numberOf(event)));
    await waitFor(() => events.stats().streams === 1, { what: 'one stream' });
    for (let i = 1; i <= 30; i++) await bus.publish(topic, logEvent(i));
    await waitFor(() => received.length === 30, { what: '30 events' });
    expect(received).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
    stream.close();
    await waitFor(() => events.stats().closedByClient === 1, { what: 'the abort counted' });
    expect(events.stats()).toMatchObject({ streams: 0, connections: 0 });
    expect(bus.stats().subscriptions).toBe(0);
  });

  it('counts unread bytes as buffered and evicts a reader that stops pulling', async () => {
    const { bus, events } = start(64 * 1024);
    const topic = uniqueTopic('fetch-slow');
    const response = await events(new Request(`${ORIGIN}/events/${encodeURIComponent(topic)}`));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(response.headers.get('connection')).toBeNull();
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain(': ok');
    // From here on nothing reads.
    let peakBuffered = 0;
    await publishUntilEvicted(bus, events, topic, {
      limit: 1000,
      yieldEvery: 1,
      afterEach: () => {
        peakBuffered = Math.max(peakBuffered, events.stats().bufferedBytes);
      },
    });
    expect(events.stats().closedForBackpressure).toBe(1);
    expect(peakBuffered).toBeGreaterThan(16 * 1024);
    expect(peakBuffered).toBeLessThanOrEqual(64 * 1024 + 8 * 1024);
    await expect(
      (async () => {
        for (;;) if ((await reader.read()).done) return;
      })(),
    ).rejects.toThrow();
  });

  it('aborting request.signal before any event ends the stream and releases the topic', async () => {
    const { bus, events } = start();
    const controller = new AbortController();
    const response = await events(
      new Request(`${ORIGIN}/events/${encodeURIComponent(uniqueTopic('abort'))}`, {
        signal: controller.signal,
      }),
    );
    expect(response.status).toBe(200);
    expect(events.stats().streams).toBe(1);
    controller.abort();
    await waitFor(() => events.stats().closedByClient === 1, { what: 'the abort counted' });
    expect(bus.stats().subscriptions).toBe(0);
  });
});
