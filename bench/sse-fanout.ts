import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent } from '@repopulse/events-core';
import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';
import { compare } from './harness';

const CLIENTS = 100;

/**
 * Fan-out of published events to 100 SSE connections over real sockets: `@repopulse/sse-express`
 * (one serialization per event per topic, frames of one tick coalesced into one write per
 * connection) against a naive handler that serializes and writes each event once per connection.
 * One op = one event delivered to all 100 clients.
 */
export async function benchSseFanout(): Promise<void> {
  const bus = createMemoryBus({ historyLimit: 10_000 });
  const app = express();
  const handler = createEventStreamHandler({ bus, topic: 'bench:fast', requireToken: false });
  app.get('/fast', handler);
  app.get('/naive', async (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    res.write(': hi\n\n');
    const sub = await bus.subscribe('bench:naive', (d) => {
      if (!d.reset)
        res.write(`id: ${d.position}\nevent: ${d.event.type}\ndata: ${JSON.stringify(d.event)}\n\n`);
    });
    req.on('close', () => void sub.unsubscribe());
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const counts = { fast: 0, naive: 0 };
  const requests: http.ClientRequest[] = [];
  const connect = (path: 'fast' | 'naive') =>
    new Promise<void>((resolve) => {
      const req = http.get(
        { port, host: '127.0.0.1', path: `/${path}`, headers: { accept: 'text/event-stream' } },
        (res) => {
          res.setEncoding('utf8');
          let first = true;
          res.on('data', (chunk: string) => {
            if (first) {
              first = false;
              resolve();
            }
            let at = chunk.indexOf('\nevent: ');
            while (at !== -1) {
              counts[path]++;
              at = chunk.indexOf('\nevent: ', at + 1);
            }
          });
        },
      );
      requests.push(req);
    });
  await Promise.all(Array.from({ length: CLIENTS }, () => [connect('fast'), connect('naive')]).flat());

  const event = createEvent(
    'task.progress',
    { phase: 'llm', percent: 40, message: 'x'.repeat(200) },
    { repo_id: 1 },
  );
  const run = (path: 'fast' | 'naive') => async (ops: number) => {
    const target = counts[path] + ops * CLIENTS;
    for (let i = 0; i < ops; i++) {
      await bus.publish(`bench:${path}`, event);
      if (i % 20 === 19) await new Promise((r) => setImmediate(r));
    }
    await new Promise<void>((resolve) => {
      const check = () => (counts[path] >= target ? resolve() : setTimeout(check, 1));
      check();
    });
  };
  try {
    await compare(
      `SSE fan-out to ${CLIENTS} connections (events/s, each to every client)`,
      [
        { name: 'naive: stringify + write per connection', run: run('naive') },
        { name: '@repopulse/sse-express', run: run('fast') },
      ],
      { ops: 500, rounds: 5 },
    );
  } finally {
    for (const req of requests) req.destroy();
    await handler.close({ graceMs: 0 });
    await new Promise((r) => server.close(r));
    await bus.close();
  }
}
