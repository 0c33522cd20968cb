import type { Socket } from 'node:net';
import { createEvent, type EventBus } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { afterEach, describe, expect, it } from 'vitest';
import { uniqueTopic } from '../../sse-server/test/helpers/events';
import { openNonReading, openRaw, type RawResponse } from '../../sse-server/test/helpers/raw-stream';
import { busFactories } from './helpers/bus-factories';
import { serverStarter } from './helpers/server';

const factories = await busFactories('bounded-replay');

const HISTORY = 2000;
const MESSAGE = 'r'.repeat(4000); // ~4.1 KB frames: ~8.3 MB of history, beyond socket buffers and the cap
const CAP = 256 * 1024;

/** Publishes the history: numbered `log.append` events; resolves with their positions. */
async function publishHistory(bus: EventBus, topic: string): Promise<string[]> {
  const positions: string[] = [];
  for (let i = 0; i < HISTORY; i++) {
    const event = createEvent('log.append', { level: 'info', message: `${i}:${MESSAGE}` });
    positions.push((await bus.publish(topic, event)).position);
  }
  return positions;
}

/**
 * Resolves once the response has the frame of `position`. Only the last chunks are searched:
 * searching the whole growing body (~8 MB) at every chunk would cost more than the replay.
 */
function reached(res: RawResponse, position: string | undefined, timeoutMs: number): Promise<void> {
  const wanted = `id: ${position}\n`;
  return waitFor(
    () => {
      let tail = '';
      for (let i = res.chunks.length - 1; i >= 0 && tail.length < 64 * 1024; i--) {
        tail = (res.chunks[i] as { text: string }).text + tail;
      }
      return tail.includes(wanted);
    },
    { timeoutMs, intervalMs: 20, what: `the frame of ${position}` },
  );
}

/** The `id:` lines of an SSE body, in order. */
const idsOf = (text: string) => [...text.matchAll(/^id: (\S+)$/gm)].map((m) => m[1] as string);

describe.each(factories)('replays within maxBufferedBytes on the $name bus', (factory) => {
  const start = serverStarter(factory);
  const sockets: Socket[] = [];
  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
  });

  it('10 clients resuming from 0-0 that never read hold at most the cap each after every write; readers resuming with them get everything', async () => {
    const bus = await factory.create({ historyLimit: HISTORY });
    const server = await start({ bus, maxBufferedBytes: CAP });
    const id = uniqueTopic('replay').slice(5);
    const positions = await publishHistory(bus, `repo:${id}`);

    let peakPerStream = 0;
    const sampler = setInterval(() => {
      const { bufferedBytes, streams } = server.handler.stats();
      if (streams > 0) peakPerStream = Math.max(peakPerStream, bufferedBytes / streams);
    }, 1);
    try {
      // Non-reading clients first (they read only the headers, then stop): the replay must not
      // pile ~8 MB into each of them.
      for (let i = 0; i < 10; i++) {
        sockets.push(await openNonReading(server.port, server.path(id, '?last_event_id=0-0')));
      }
      const reader = await openRaw(server.url(id, '?last_event_id=0-0'));
      await reached(reader, positions.at(-1), 60_000);
      expect(idsOf(reader.text)).toEqual(positions);
      // Let the stalled streams settle at their cap.
      await waitFor(() => server.handler.stats().bufferedBytes > 10 * 64 * 1024, { what: 'stalled bytes' });
      const { bufferedBytes, streams, closedForBackpressure } = server.handler.stats();
      expect(streams).toBe(11);
      // Each stalled stream holds at most the cap (before the fix: its whole ~8 MB replay).
      expect(bufferedBytes).toBeLessThanOrEqual(11 * CAP);
      expect(closedForBackpressure).toBe(0);
      reader.destroy();
    } finally {
      clearInterval(sampler);
    }
    expect(peakPerStream).toBeLessThanOrEqual(CAP);
  }, 60_000);

  it('a client that reads slowly while replaying from 0-0 gets every event once, in order (paused and resumed across window and catch-up reads)', async () => {
    const bus = await factory.create({ historyLimit: HISTORY });
    const server = await start({ bus, maxBufferedBytes: CAP, windowEvents: 64 });
    const id = uniqueTopic('slow-replay').slice(5);
    const topic = `repo:${id}`;
    const positions = await publishHistory(bus, topic);
    const reader = await openRaw(server.url(id, '?last_event_id=0-0'));
    // Read in short bursts: the stream keeps pausing at its cap and rejoining its hub.
    reader.res.pause();
    const burst = setInterval(() => {
      reader.res.resume();
      setTimeout(() => reader.res.pause(), 2);
    }, 10);
    try {
      // Live events published meanwhile follow the replay with no gap.
      for (let i = 0; i < 20; i++) {
        const event = createEvent('log.append', { level: 'info', message: `live ${i}` });
        positions.push((await bus.publish(topic, event)).position);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await reached(reader, positions.at(-1), 90_000);
    } finally {
      clearInterval(burst);
      reader.res.resume();
    }
    expect(idsOf(reader.text)).toEqual(positions);
    expect(server.handler.stats()).toMatchObject({ closedForBackpressure: 0, streams: 1 });
    expect(server.handler.stats().catchUpReads).toBeGreaterThan(1); // it rejoined through catch-ups
    reader.destroy();
  }, 60_000);

  it('closes streams whose socket accepts nothing for writeTimeoutMs; they resume from their last id without a gap', async () => {
    const bus = await factory.create({ historyLimit: HISTORY });
    const server = await start({ bus, maxBufferedBytes: CAP, writeTimeoutMs: 300, heartbeatMs: 60_000 });
    const id = uniqueTopic('write-timeout').slice(5);
    const positions = await publishHistory(bus, `repo:${id}`);
    const stalled = await openNonReading(server.port, server.path(id, '?last_event_id=0-0'));
    sockets.push(stalled);
    let received = '';
    stalled.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    await waitFor(() => server.handler.stats().closedForWriteTimeout === 1, {
      timeoutMs: 20_000,
      what: 'the write timeout',
    });
    expect(server.handler.stats()).toMatchObject({ streams: 0, closedForBackpressure: 0 });
    stalled.resume(); // read what the kernel still holds
    await new Promise((resolve) => (stalled.destroyed ? resolve(undefined) : stalled.once('close', resolve)));
    // (the first chunk went to openNonReading: `seen` starts a little later)
    const seen = idsOf(received);
    const first = positions.indexOf(seen[0] as string);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(first + seen.length).toBeLessThan(positions.length);
    expect(seen).toEqual(positions.slice(first, first + seen.length));
    const resumed = await openRaw(server.url(id, `?last_event_id=${seen.at(-1)}`));
    await reached(resumed, positions.at(-1), 60_000);
    expect([...seen, ...idsOf(resumed.text)]).toEqual(positions.slice(first));
    resumed.destroy();
  }, 60_000);
});
