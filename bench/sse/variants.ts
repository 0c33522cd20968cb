import type { ServerResponse } from 'node:http';
import type { AnyEnvelope, EventBus } from '@repopulse/events-core';
import { encodeSseFrame } from '@repopulse/events-core/wire';
import { createEventStreamHandler } from '@repopulse/sse-express';
import { createChannel, createSession } from 'better-sse';
import type { Express } from 'express';

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

const HEADERS = {
  'Content-Type': 'text/event-stream',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
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
  const clients = new Set<ServerResponse>();
  app.get('/events', (req, res) => {
    res.writeHead(200, HEADERS);
    res.write('retry: 3000\n\n: ok\n\n');
    clients.add(res);
    req.on('close', () => clients.delete(res));
  });
  const frameOf = (position: string, event: AnyEnvelope) =>
    Buffer.from(encodeSseFrame(position, event), 'utf8');
  if (variant === 'plain') {
    await bus.subscribe(topic, (d) => {
      if (d.reset) return;
      const frame = frameOf(d.position, d.event);
      for (const res of clients) res.write(frame);
    });
  } else {
    let tick: Buffer[] = [];
    const flush = () => {
      const joined = tick.length === 1 ? (tick[0] as Buffer) : Buffer.concat(tick);
      tick = [];
      for (const res of clients) res.write(joined);
    };
    await bus.subscribe(topic, (d) => {
      if (d.reset) return;
      if (tick.length === 0) setImmediate(flush);
      tick.push(frameOf(d.position, d.event));
    });
  }
  return () => ({ streams: clients.size });
}
