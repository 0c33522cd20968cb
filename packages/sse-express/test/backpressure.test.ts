import { createEvent } from '@repopulse/events-core';
import { waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { uniqueTopic } from '../../sse-server/test/helpers/events';
import { openNonReading, openRaw } from '../../sse-server/test/helpers/raw-stream';
import { DEFAULT_MAX_BUFFERED_BYTES } from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { serverStarter } from './helpers/server';

const factories = await busFactories('backpressure');

describe.each(factories)('backpressure on the $name bus', (factory) => {
  const start = serverStarter(factory);

  it('closes and counts 100 clients that never read, keeps memory bounded, and spares a reading client', async () => {
    const bus = await factory.create();
    const server = await start({ bus });
    const id = uniqueTopic('bp').slice(5);
    const topic = `repo:${id}`;
    const stalled = await Promise.all(
      Array.from({ length: 100 }, () => openNonReading(server.port, server.path(id))),
    );
    const reader = await openRaw(server.url(id));
    await waitFor(() => server.handler.stats().streams === 101, { what: '101 streams' });
    expect(bus.stats().subscriptions).toBe(1);

    const message = 'x'.repeat(8000);
    const frameBytes = 8300; // frame overhead included, generously
    // What a stream may hold: the cap, plus the frame that crossed it, plus what Node buffered
    // before `write()` said false (its high-water mark and the write that crossed it).
    const perStreamBound = DEFAULT_MAX_BUFFERED_BYTES + 2 * frameBytes + 64 * 1024 + 512 * 1024;
    let published = 0;
    let peakBuffered = 0;
    let peakPerStream = 0;
    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    // 3000 × 8 KB = 24 MB per client: far beyond any socket buffer, so without the cap the
    // stalled streams would hold it all.
    while (server.handler.stats().closedForBackpressure < 100 && published < 3000) {
      await bus.publish(
        topic,
        createEvent('log.append', { level: 'info', message: `${published}:${message}` }),
      );
      published++;
      if (published % 10 === 0) {
        await new Promise((resolve) => setImmediate(resolve));
        const stats = server.handler.stats();
        peakBuffered = Math.max(peakBuffered, stats.bufferedBytes);
        if (stats.streams > 0) peakPerStream = Math.max(peakPerStream, stats.bufferedBytes / stats.streams);
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
    }
    await waitFor(() => server.handler.stats().closedForBackpressure === 100, { what: '100 closes' });
    expect(server.handler.stats()).toMatchObject({ closedForBackpressure: 100, streams: 1 });
    expect(peakBuffered).toBeLessThanOrEqual(101 * perStreamBound);
    expect(peakPerStream).toBeLessThanOrEqual(perStreamBound);
    // Frames are shared between connections, so 100 stalled streams cost little real memory.
    expect(peakRss - rssBefore).toBeLessThan(300 * 1024 * 1024);
    await waitFor(() => bus.stats().subscriptions === 1, { what: 'released subscriptions' });

    // The stalled sockets were really closed by the server.
    await Promise.all(
      stalled.map(
        (socket) =>
          new Promise<void>((resolve) => {
            if (socket.destroyed || socket.readableEnded) return resolve();
            socket.once('close', () => resolve());
            socket.resume();
          }),
      ),
    );

    // The reader that keeps up got every event, in order, and stays open.
    await reader.waitFor(
      (t) => t.includes(`data: {`) && t.split('event: log.append').length - 1 === published,
      30_000,
    );
    const numbers = reader
      .blocks()
      .filter((b) => b.event === 'log.append')
      .map((b) => Number(JSON.parse(b.data!).payload.message.split(':')[0]));
    expect(numbers).toEqual(Array.from({ length: published }, (_, i) => i));
    expect(reader.isEnded).toBe(false);
    reader.destroy();
  });

  it('a stream closed for backpressure resumes from its last event id without a gap', async () => {
    const bus = await factory.create();
    const server = await start({ bus, maxBufferedBytes: 64 * 1024 });
    const id = uniqueTopic('bp2').slice(5);
    const topic = `repo:${id}`;
    const slow = await openNonReading(server.port, server.path(id));
    let received = '';
    slow.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
    });
    await waitFor(() => bus.stats().subscriptions === 1);
    const positions: string[] = [];
    const message = 'y'.repeat(4000);
    while (server.handler.stats().closedForBackpressure === 0 && positions.length < 5000) {
      positions.push(
        (await bus.publish(topic, createEvent('log.append', { level: 'info', message }))).position,
      );
      if (positions.length % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(server.handler.stats().closedForBackpressure).toBe(1);
    slow.resume(); // read what the kernel still holds
    await new Promise((resolve) => slow.once('close', resolve));
    const ids = [...received.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]!);
    const lastSeen = ids.at(-1)!;
    expect(positions.slice(0, ids.length)).toEqual(ids);
    const resumed = await openRaw(server.url(id, `?last_event_id=${lastSeen}`));
    await resumed.waitFor((t) => t.includes(`id: ${positions.at(-1)}\n`), 30_000);
    const replayed = resumed
      .blocks()
      .filter((b) => b.event === 'log.append')
      .map((b) => b.id);
    expect([...ids, ...replayed]).toEqual(positions.slice(0, ids.length + replayed.length));
    resumed.destroy();
  });

  it('a reader that falls behind is held back (write() false → queue → drain), then catches up, never closed under the cap', async () => {
    const bus = await factory.create();
    const server = await start({ bus, maxBufferedBytes: 8 * 1024 * 1024 });
    const id = uniqueTopic('slow').slice(5);
    const topic = `repo:${id}`;
    const socket = await openNonReading(server.port, server.path(id));
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    await waitFor(() => bus.stats().subscriptions === 1);
    const message = 'z'.repeat(16_000);
    const positions: string[] = [];
    const publish = async () => {
      positions.push(
        (await bus.publish(topic, createEvent('log.append', { level: 'info', message }))).position,
      );
    };
    // Not reading: publish until the server holds frames back (socket buffers full).
    while (server.handler.stats().bufferedBytes < 256 * 1024 && positions.length < 2000) {
      await publish();
      if (positions.length % 5 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const held = server.handler.stats().bufferedBytes;
    expect(held).toBeGreaterThanOrEqual(256 * 1024);
    expect(held).toBeLessThan(8 * 1024 * 1024);
    // Now read: the queue drains, and live events keep flowing behind it.
    socket.resume();
    for (let i = 0; i < 20; i++) await publish();
    await waitFor(() => received.includes(`id: ${positions.at(-1)}\n`), {
      timeoutMs: 30_000,
      what: 'all events',
    });
    const ids = [...received.matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    expect(ids).toEqual(positions);
    await waitFor(() => server.handler.stats().bufferedBytes === 0, { what: 'drained' });
    expect(server.handler.stats()).toMatchObject({ closedForBackpressure: 0, streams: 1 });
    socket.destroy();
  });
});
