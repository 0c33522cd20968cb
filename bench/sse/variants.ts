import type { ServerResponse } from 'node:http';
import type { EventBus } from '@repopulse/events-core';
import { encodeSseFrame } from '@repopulse/events-core/wire';
import { createEventStreamHandler } from '@repopulse/sse-express';
import { createChannel, createSession } from 'better-sse';
import type { Express } from 'express';
import { coalescingFanOut, PREAMBLE, SSE_HEADERS } from './coalescing-baseline';

/** The fan-out implementations compared, each on one Express route, fed by one bus subscription. */
export type VariantName = 'sse-express' | 'better-sse' | 'plain' | 'coalescing';

/** Variants in report order; the coalescing baseline first (ratios are against it). */
export const VARIANTS: readonly VariantName[] = ['coalescing', 'sse-express', 'plain', 'better-sse'];

/** What the report calls each variant. */
export const VARIANT_LABELS: Record<VariantName, string> = {
  coalescing: 'coalescing baseline (serialize once, join one tick, one write per response)',
  'sse-express': '@repopulse/sse-express (topic hub)',
  plain: 'plain baseline (serialize once, `res.write` per response per event)',
  'better-sse': 'better-sse 0.16 (`Channel.broadcast`)',
};

/** Mounts `variant` on `GET /events` for `topic`; returns a diagnostics function. */
export async function mount(
  app: Express,
  variant: VariantName,
  bus: EventBus,
  topic: string,
): Promise<() => Record<string, unknown>> {
  if (variant === 'sse-express') {
    const handler = createEventStreamHandler({ bus, topic, heartbeatMs: 15_000 });
    app.get('/events', handler);
    return () => ({ ...handler.stats() });
  }
  if (variant === 'better-sse') {
    const channel = createChannel();
    app.get('/events', async (req, res) => {
      const session = await createSession(req, res);
      channel.register(session);
    });
    await bus.subscribe(topic, (d) => {
      if (!d.reset) channel.broadcast(d.event, d.event.type, { eventId: d.position });
    });
    return () => ({ streams: channel.sessionCount });
  }
  if (variant === 'coalescing') {
    const fanOut = await coalescingFanOut(bus, topic);
    app.get('/events', (req, res) => fanOut.nodeHandler(req, res));
    return () => ({ streams: fanOut.size });
  }
  const clients = new Set<ServerResponse>();
  app.get('/events', (req, res) => {
    res.writeHead(200, SSE_HEADERS);
    res.write(PREAMBLE);
    clients.add(res);
    req.on('close', () => clients.delete(res));
  });
  await bus.subscribe(topic, (d) => {
    if (d.reset) return;
    const frame = Buffer.from(encodeSseFrame(d.position, d.event), 'utf8');
    for (const res of clients) res.write(frame);
  });
  return () => ({ streams: clients.size });
}
