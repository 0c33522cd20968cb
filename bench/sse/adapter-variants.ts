// The adapter matrix: each framework serves `GET /events` through our adapter and through the
// hand-written coalescing baseline on the same framework; better-sse and Hono's `streamSSE` are
// peers on Hono. Every variant is fed by one bus subscription, a fresh `createEvent` per publish.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { createAdaptorServer } from '@hono/node-server';
import type { EventBus } from '@repopulse/events-core';
import { createEventStreamHandler } from '@repopulse/sse-express';
import { createFastifyHandler } from '@repopulse/sse-server/fastify';
import { createFetchHandler } from '@repopulse/sse-server/fetch';
import { createNodeHandler } from '@repopulse/sse-server/node';
import { createChannel, createResponse } from 'better-sse';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import { coalescingFanOut, PREAMBLE } from './coalescing-baseline';

/** A framework row of the matrix, and how the load process speaks to it. */
export interface AdapterRow {
  /** Shown in the report. */
  label: string;
  /** The baseline (first) and the variants compared with it, side by side. */
  variants: readonly AdapterVariant[];
  /** `h1` (plain HTTP/1.1), `tls` (HTTP/1.1 over TLS) or `h2` (HTTP/2 over TLS). */
  protocol?: 'h1' | 'tls' | 'h2';
}

/** Every variant the matrix runs: `framework:implementation`. */
export type AdapterVariant =
  | 'node:coalescing'
  | 'node:repopulse'
  | 'express:coalescing'
  | 'express:repopulse'
  | 'fastify:coalescing'
  | 'fastify:repopulse'
  | 'hono:coalescing'
  | 'hono:repopulse'
  | 'hono:better-sse'
  | 'hono:streamSSE'
  | 'https:repopulse'
  | 'h2:repopulse';

/** What the report calls each variant. */
export const ADAPTER_LABELS: Record<AdapterVariant, string> = {
  'node:coalescing': 'coalescing baseline on `node:http`',
  'node:repopulse': '`@repopulse/sse-server/node` on `node:http`',
  'express:coalescing': 'coalescing baseline on Express 5',
  'express:repopulse': '`@repopulse/sse-express` on Express 5',
  'fastify:coalescing': 'coalescing baseline on Fastify 5 (`reply.hijack()`)',
  'fastify:repopulse': '`@repopulse/sse-server/fastify` on Fastify 5',
  'hono:coalescing': 'coalescing baseline on Hono 4 (`ReadableStream` body)',
  'hono:repopulse': '`@repopulse/sse-server/fetch` on Hono 4',
  'hono:better-sse': 'better-sse 0.16 `createResponse` + `Channel.broadcast` on Hono 4',
  'hono:streamSSE': 'Hono `streamSSE` in a broadcast loop',
  'https:repopulse': '`@repopulse/sse-server/node` on `node:https` (HTTP/1.1 over TLS)',
  'h2:repopulse': '`@repopulse/sse-server/node` on `node:http2` (TLS, one session per client)',
};

/** The matrix in report order. */
export const ADAPTER_ROWS: readonly AdapterRow[] = [
  { label: '`node:http`', variants: ['node:coalescing', 'node:repopulse'] },
  { label: 'Express 5', variants: ['express:coalescing', 'express:repopulse'] },
  { label: 'Fastify 5', variants: ['fastify:coalescing', 'fastify:repopulse'] },
  {
    label: 'Hono 4 on `@hono/node-server`',
    variants: ['hono:coalescing', 'hono:repopulse', 'hono:better-sse', 'hono:streamSSE'],
  },
];

/** HTTP/2 next to HTTP/1.1 over TLS, the same handler. */
export const HTTP2_ROW: AdapterRow = {
  label: 'HTTP/1.1 vs HTTP/2 (TLS)',
  variants: ['https:repopulse', 'h2:repopulse'],
};

/** The load protocol a variant is spoken to with. */
export function protocolOf(variant: AdapterVariant): 'h1' | 'tls' | 'h2' {
  return variant.startsWith('h2:') ? 'h2' : variant.startsWith('https:') ? 'tls' : 'h1';
}

/** A listening server and what it reports. */
export interface Listening {
  server: Server;
  diagnostics(): Record<string, unknown>;
}

const HEARTBEAT_MS = 15_000;

/** Starts `variant` on 127.0.0.1 (a free port), `GET /events` streaming `topic`. */
export async function listenAdapter(
  variant: AdapterVariant,
  bus: EventBus,
  topic: string,
): Promise<Listening> {
  const [framework, implementation] = variant.split(':') as [string, string];
  if (framework === 'fastify') return listenFastify(implementation, bus, topic);
  if (framework === 'hono') return listenHono(implementation, bus, topic);
  if (framework === 'express') {
    const app = express();
    if (implementation === 'coalescing') {
      const fanOut = await coalescingFanOut(bus, topic);
      app.get('/events', (req, res) => fanOut.nodeHandler(req, res));
      return listening(http.createServer(app), () => ({ streams: fanOut.size }));
    }
    const handler = createEventStreamHandler({ bus, topic, heartbeatMs: HEARTBEAT_MS });
    app.get('/events', handler);
    return listening(http.createServer(app), () => ({ ...handler.stats() }));
  }
  // node, https, h2: the same handler on each transport.
  const fanOut = implementation === 'coalescing' ? await coalescingFanOut(bus, topic) : undefined;
  const ours = fanOut ? undefined : createNodeHandler({ bus, topic, heartbeatMs: HEARTBEAT_MS });
  const handle = fanOut ? fanOut.nodeHandler : (ours as NonNullable<typeof ours>);
  const diagnostics = () => (fanOut ? { streams: fanOut.size } : { ...ours?.stats() });
  if (framework === 'node') return listening(http.createServer(handle), diagnostics);
  const tls = tlsOptions();
  if (framework === 'https') return listening(https.createServer(tls, handle), diagnostics);
  return listening(http2.createSecureServer(tls, handle) as unknown as Server, diagnostics);
}

async function listenFastify(implementation: string, bus: EventBus, topic: string): Promise<Listening> {
  const app = Fastify();
  let diagnostics: () => Record<string, unknown>;
  if (implementation === 'coalescing') {
    const fanOut = await coalescingFanOut(bus, topic);
    app.get('/events', (request, reply) => {
      reply.hijack();
      fanOut.nodeHandler(request.raw, reply.raw);
    });
    diagnostics = () => ({ streams: fanOut.size });
  } else {
    const handler = createFastifyHandler({ bus, topic, heartbeatMs: HEARTBEAT_MS });
    app.get('/events', handler);
    diagnostics = () => ({ ...handler.stats() });
  }
  await app.listen({ port: 0, host: '127.0.0.1' });
  app.server.maxConnections = 100_000;
  return { server: app.server, diagnostics };
}

async function listenHono(implementation: string, bus: EventBus, topic: string): Promise<Listening> {
  const app = new Hono();
  let diagnostics: () => Record<string, unknown>;
  if (implementation === 'coalescing') {
    const fanOut = await coalescingFanOut(bus, topic);
    app.get('/events', (c) => fanOut.fetchHandler(c.req.raw));
    diagnostics = () => ({ streams: fanOut.size });
  } else if (implementation === 'repopulse') {
    const handler = createFetchHandler({ bus, topic, heartbeatMs: HEARTBEAT_MS });
    app.get('/events', (c) => handler(c.req.raw));
    diagnostics = () => ({ ...handler.stats() });
  } else if (implementation === 'better-sse') {
    const channel = createChannel();
    app.get('/events', (c) => createResponse(c.req.raw, (session) => channel.register(session)));
    await bus.subscribe(topic, (d) => {
      if (!d.reset) channel.broadcast(d.event, d.event.type, { eventId: d.position });
    });
    diagnostics = () => ({ streams: channel.sessionCount });
  } else {
    const streams = new Set<SSEStreamingApi>();
    app.get('/events', (c) =>
      streamSSE(c, async (stream) => {
        await stream.write(PREAMBLE);
        streams.add(stream);
        await new Promise<void>((resolve) => stream.onAbort(resolve));
        streams.delete(stream);
      }),
    );
    await bus.subscribe(topic, (d) => {
      if (d.reset) return;
      const message = { data: JSON.stringify(d.event), event: d.event.type, id: d.position };
      for (const stream of streams) void stream.writeSSE(message);
    });
    diagnostics = () => ({ streams: streams.size });
  }
  return listening(createAdaptorServer({ fetch: app.fetch }) as Server, diagnostics);
}

async function listening(server: Server, diagnostics: () => Record<string, unknown>): Promise<Listening> {
  server.maxConnections = 100_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, diagnostics };
}

/** The test certificate `BENCH_TLS_DIR` holds (made by the scenario with `openssl`). */
function tlsOptions(): { key: Buffer; cert: Buffer } {
  const dir = process.env.BENCH_TLS_DIR;
  if (!dir) throw new Error('BENCH_TLS_DIR is not set');
  return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
}
