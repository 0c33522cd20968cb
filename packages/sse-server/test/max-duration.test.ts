// maxDurationMs over a real socket: every stream ends cleanly, with `retry:`, between 0.9 and 1.0 ×
// maxDurationMs after it opened; the npm `eventsource` client and @repopulse/client resume across
// the forced ends and get every event once, in order; a long-poll waits at most as long.
import { createServer } from 'node:http';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEventStream } from '@repopulse/client';
import { sleep, waitFor } from '@repopulse/test-support';
import { cleanupAfterEach } from '@repopulse/test-support/vitest';
import { EventSource } from 'eventsource';
import { describe, expect, it } from 'vitest';
import { createNodeHandler } from '../src/node/index';
import { logEvent, numberOf, uniqueTopic } from './helpers/events';
import { listenHandler } from './helpers/listen-handler';
import { getJson, openRaw } from './helpers/raw-stream';

const MAX_DURATION_MS = 400;

describe('maxDurationMs', () => {
  const cleanups = cleanupAfterEach();

  async function start(topic: string) {
    const bus = createMemoryBus();
    const events = createNodeHandler({ bus, topic, maxDurationMs: MAX_DURATION_MS, retryMs: 50 });
    const listening = await listenHandler(cleanups, bus, events, createServer(events));
    return { bus, events, url: `${listening.origin}/events` };
  }

  it('ends each stream cleanly with retry: between 0.9 and 1.0 × maxDurationMs after it opened', async () => {
    const { events, url } = await start(uniqueTopic('duration'));
    const streams = await Promise.all(Array.from({ length: 5 }, () => openRaw(url)));
    const opened = Date.now();
    const ends = await Promise.all(streams.map((s) => s.ended.then(() => Date.now() - opened)));
    for (const s of streams) {
      expect(s.blocks().at(-1)?.raw).toBe('retry: 50');
      expect(s.res.complete).toBe(true); // the chunked body ended properly, not a dropped socket
    }
    // Never early (the timers start once a stream is open, a little after `opened`). How close to
    // the limit the end comes is the timer's business (see the durationEnd unit test); a loaded
    // machine only delays it.
    for (const elapsed of ends) expect(elapsed).toBeGreaterThanOrEqual(0.9 * MAX_DURATION_MS - 50);
    for (const elapsed of ends) expect(elapsed).toBeLessThan(3 * MAX_DURATION_MS);
    expect(events.stats()).toMatchObject({ closedForMaxDuration: 5, streams: 0, closedByClient: 0 });
  });

  it('the eventsource client and @repopulse/client get every event once, in order, across forced ends', async () => {
    const topic = uniqueTopic('duration-clients');
    const { bus, events, url } = await start(topic);
    const viaEventSource: number[] = [];
    const source = new EventSource(url);
    source.addEventListener('log.append', (e) => viaEventSource.push(numberOf(JSON.parse(e.data))));
    const viaClient: number[] = [];
    const stream = createEventStream(url, { lastEventId: await bus.head(topic) });
    stream.on('log.append', (event) => viaClient.push(numberOf(event)));
    await waitFor(() => events.stats().streams === 2, { what: 'both clients connected' });
    const total = 120;
    for (let i = 1; i <= total; i++) {
      await bus.publish(topic, logEvent(i));
      await sleep(15); // ~1.8 s of publishing: several forced ends per client
    }
    const expected = Array.from({ length: total }, (_, i) => i + 1);
    await waitFor(() => viaEventSource.length >= total && viaClient.length >= total, {
      what: 'every event on both clients',
    });
    source.close();
    stream.close();
    expect(viaEventSource).toEqual(expected);
    expect(viaClient).toEqual(expected);
    expect(events.stats().closedForMaxDuration).toBeGreaterThanOrEqual(6);
  });

  it('a long-poll waits at most maxDurationMs, whatever ?wait= asks for', async () => {
    const topic = uniqueTopic('duration-poll');
    const { bus, events, url } = await start(topic);
    const head = await bus.head(topic);
    const startedAt = Date.now();
    const answer = await getJson(`${url}?after=${encodeURIComponent(head)}&wait=20`);
    const elapsed = Date.now() - startedAt;
    expect(answer).toMatchObject({ status: 200, body: { events: [], position: head } });
    expect(elapsed).toBeGreaterThanOrEqual(0.9 * MAX_DURATION_MS - 50);
    expect(elapsed).toBeLessThan(5_000); // not the 20 s it asked for
    expect(events.stats().totalLongPolls).toBe(1);
  });
});
