import { connect } from 'node:net';
import { waitFor } from '@repopulse/test-support';
import { describe, expect, it } from 'vitest';
import { logEvent, uniqueTopic } from '../../sse-server/test/helpers/events';
import { getJson, openRaw } from '../../sse-server/test/helpers/raw-stream';
import { busFactories } from './helpers/bus-factories';
import { serverStarter } from './helpers/server';

const factories = await busFactories('lifecycle');

/** Opens an SSE request on a raw socket, waits for the first bytes, then drops the socket. */
function connectAndDrop(port: number, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n`);
    });
    let seen = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no stream opened within 10 s; got: ${JSON.stringify(seen.slice(0, 200))}`));
    }, 10_000);
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('latin1');
      if (seen.includes('\r\n\r\n') && !seen.startsWith('HTTP/1.1 200')) {
        clearTimeout(timer);
        socket.destroy();
        reject(new Error(`refused: ${seen.slice(0, 400)}`));
      } else if (seen.includes(': ok\n\n')) {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      }
    });
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

describe.each(factories)('connection lifecycle on the $name bus', (factory) => {
  const start = serverStarter(factory);

  it('10,000 connect/disconnect cycles leave no subscription, topic or connection behind', async () => {
    const bus = await factory.create();
    const server = await start({ bus });
    const prefix = uniqueTopic('cycle').slice(5);
    const paths = Array.from({ length: 10 }, (_, i) => server.path(`${prefix}-${i}`));
    const cycles = 10_000;
    const batch = 200;
    for (let done = 0; done < cycles; done += batch) {
      await Promise.all(
        Array.from({ length: batch }, (_, i) =>
          connectAndDrop(server.port, paths[(done + i) % paths.length]!),
        ),
      );
    }
    await waitFor(
      () =>
        server.handler.stats().connections === 0 &&
        bus.stats().subscriptions === 0 &&
        server.sockets.size === 0,
      { what: 'every connection released', timeoutMs: 15_000 },
    );
    expect(bus.stats()).toEqual({ topics: 0, subscriptions: 0 });
    expect(server.handler.stats()).toMatchObject({
      connections: 0,
      streams: 0,
      topics: 0,
      bufferedBytes: 0,
      totalStreams: cycles,
      closedByClient: cycles,
    });
    // still serving normally afterwards
    const res = await openRaw(server.url(`${prefix}-0`));
    await res.waitFor((t) => t.includes(': ok'));
    await waitFor(() => bus.stats().subscriptions === 1);
    const { position } = await bus.publish(`repo:${prefix}-0`, logEvent(1));
    await res.waitFor((t) => t.includes(`id: ${position}\n`));
    res.destroy();
  }, 120_000);

  it('close({ graceMs }) ends every stream within the grace period, spread out, and drains new ones', async () => {
    const bus = await factory.create();
    const server = await start({ bus });
    const id = uniqueTopic('grace').slice(5);
    const clients = await Promise.all(Array.from({ length: 20 }, () => openRaw(server.url(id))));
    await Promise.all(clients.map((c) => c.waitFor((t) => t.includes(': ok'))));
    await waitFor(() => server.handler.stats().streams === 20);
    expect(bus.stats().subscriptions).toBe(1);
    const endedAt: number[] = [];
    for (const c of clients) void c.ended.then(() => endedAt.push(Date.now()));

    const graceMs = 1000;
    const startedAt = Date.now();
    const closing = server.handler.close({ graceMs });
    // A new stream: 200, `retry:` and a clean end (a native EventSource reconnects); a long-poll: 503.
    const drained = await openRaw(server.url(id));
    await drained.ended;
    expect(drained.status).toBe(200);
    expect(drained.headers['content-type']).toBe('text/event-stream');
    expect(drained.text).toBe('retry: 3000\n\n: ok\n\n');
    expect(drained.res.complete).toBe(true);
    const refused = await getJson(server.url(id, '?after=1-0'));
    expect(refused).toMatchObject({ status: 503, body: { error: { code: 'shutting_down' } } });
    expect(refused.headers['retry-after']).toBe('3');
    // streams still open meanwhile keep receiving events
    const { position } = await bus.publish(`repo:${id}`, logEvent(1, id));
    await closing;
    await waitFor(() => endedAt.length === 20);
    const offsets = endedAt.map((t) => t - startedAt).sort((a, b) => a - b);
    expect(offsets[19]! - offsets[0]!).toBeGreaterThanOrEqual(graceMs * 0.6); // not all at once
    expect(offsets[19]!).toBeLessThan(graceMs + 2000); // within the grace period (+ slack for slow CI)
    const late = clients.filter((c) => c.text.includes(`id: ${position}\n`));
    expect(late.length).toBeGreaterThan(10); // those still open got the event
    for (const c of clients) expect(c.res.complete).toBe(true); // ended cleanly, not torn down
    expect(server.handler.stats()).toMatchObject({
      closedForShutdown: 20,
      connections: 0,
      streams: 0,
      drained: 1,
    });
    expect(bus.stats().subscriptions).toBe(0);
  });
});
