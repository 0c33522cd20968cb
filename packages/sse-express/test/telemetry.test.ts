import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import * as api from '@opentelemetry/api';
import type { ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { createEvent, type EventBus, traceIdOf } from '@repopulse/events-core';
import { registerOpenTelemetry, unregisterOpenTelemetry } from '@repopulse/events-core/otel';
import { createTestOpenTelemetry, metricValue, waitFor } from '@repopulse/test-support';
import { EventSource } from 'eventsource';
import express from 'express';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { uniqueTopic } from '../../sse-server/test/helpers/events';
import { createEventStreamHandler } from '../src/index';
import { busFactories } from './helpers/bus-factories';
import { startServer, type TestServer } from './helpers/server';

const otel = createTestOpenTelemetry();
const { spans, collect } = otel;
beforeAll(() => otel.start(registerOpenTelemetry));
afterAll(() => otel.stop(unregisterOpenTelemetry));

const factories = await busFactories('telemetry');

/** Sums a metric's data points (optionally only those whose attributes match); 0 without any. */
const sum = (metrics: ResourceMetrics, name: string, attributes: Record<string, string> = {}): number =>
  metricValue(metrics, name, attributes) ?? 0;

/** POSTs like a browser whose click started a span: `traceparent` header, empty body. */
function post(url: string, traceparent: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { traceparent } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe.each(factories)('OpenTelemetry on the $name bus', (factory) => {
  let server: TestServer | undefined;
  let source: EventSource | undefined;
  afterEach(async () => {
    source?.close();
    await server?.close();
    server = undefined;
    await factory.cleanup();
  });

  it('one trace from the click, through the HTTP request and the publish, to the frame the SSE client receives', async () => {
    const bus: EventBus = await factory.create();
    const id = uniqueTopic('otel').slice(5);
    const topic = `repo:${id}`;
    const tracer = api.trace.getTracer('test-app');
    const handler = createEventStreamHandler({ bus, topic: () => topic });
    const app = express();
    app.get('/api/repositories/:id/events', handler);
    // The app's "run all" route: the request's span continues the browser's trace (as HTTP
    // instrumentation would), and the run publishes inside it.
    app.post('/api/repositories/:id/run-all', (req, res) => {
      const parent = api.propagation.extract(api.context.active(), req.headers);
      tracer.startActiveSpan(
        'POST /api/repositories/:id/run-all',
        { kind: api.SpanKind.SERVER },
        parent,
        (span) => {
          res.status(202).end();
          void (async () => {
            await bus.publish(
              topic,
              createEvent('task.progress', { phase: 'clone', percent: 10 }, { repo_id: id }),
            );
            await bus.publish(
              topic,
              createEvent('task.progress', { phase: 'llm', percent: 60 }, { repo_id: id }),
            );
            span.end();
          })();
        },
      );
    });
    const started = await startApp(app, handler);
    server = started;

    const frames: { type: string; data: Record<string, unknown> }[] = [];
    source = new EventSource(`${started.origin}/api/repositories/${id}/events`);
    source.addEventListener('task.progress', (e) => frames.push({ type: e.type, data: JSON.parse(e.data) }));
    await new Promise<void>((resolve, reject) => {
      (source as EventSource).onopen = () => resolve();
      (source as EventSource).onerror = () => reject(new Error('SSE failed'));
    });
    await waitFor(() => handler.stats().streams === 1);

    const clickTraceId = randomBytes(16).toString('hex');
    const click = `00-${clickTraceId}-a1a2a3a4a5a6a7a8-01`;
    expect(await post(`${started.origin}/api/repositories/${id}/run-all`, click)).toBe(202);
    await waitFor(() => frames.length === 2);

    // The frames carry the trace context of the request that made them.
    for (const frame of frames) expect(traceIdOf(frame.data.traceparent as string)).toBe(clickTraceId);
    await waitFor(
      () => spans.getFinishedSpans().filter((s) => s.spanContext().traceId === clickTraceId).length >= 3,
    );
    const trace = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === clickTraceId);
    const serverSpan = trace.find((s) => s.name.startsWith('POST'));
    expect(serverSpan?.parentSpanContext?.spanId).toBe('a1a2a3a4a5a6a7a8');
    const sends = trace.filter((s) => s.name === 'send repo:{id}');
    expect(sends).toHaveLength(2);
    for (const send of sends) {
      expect(send.kind).toBe(api.SpanKind.PRODUCER);
      expect(send.parentSpanContext?.spanId).toBe(serverSpan?.spanContext().spanId);
      expect(send.links).toEqual([]); // made where it was published: the parent says it all
      expect(send.attributes).toMatchObject({
        'messaging.system': factory.name,
        'messaging.destination.template': 'repo:{id}',
        'messaging.operation.type': 'send',
      });
    }
    // Each frame's traceparent names the request's span, and its message id a send span.
    expect(frames.map((f) => f.data.traceparent)).toEqual(
      frames.map(() => `00-${clickTraceId}-${serverSpan?.spanContext().spanId}-01`),
    );
    expect(sends.map((s) => s.attributes['messaging.message.id']).sort()).toEqual(
      frames.map((f) => f.data.id).sort(),
    );

    const metrics = await collect();
    expect(
      sum(metrics, 'messaging.client.sent.messages', { 'messaging.system': factory.name }),
    ).toBeGreaterThanOrEqual(2);
    expect(
      sum(metrics, 'messaging.client.operation.duration', { 'messaging.system': factory.name }),
    ).toBeGreaterThanOrEqual(2);
    expect(sum(metrics, 'repopulse.sse.deliveries')).toBeGreaterThanOrEqual(2);
    expect(sum(metrics, 'repopulse.sse.written')).toBeGreaterThan(200);
    expect(
      sum(metrics, 'repopulse.sse.delivery.lag', { 'messaging.destination.template': 'repo:{id}' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sum(metrics, 'repopulse.sse.streams')).toBeGreaterThanOrEqual(1);
  });

  it('a publish elsewhere than where the event was made (a relay, a retry) links to its creation context', async () => {
    const bus = await factory.create();
    const tracer = api.trace.getTracer('test-app');
    const made = tracer.startActiveSpan('create', (span) => {
      const event = createEvent('log.append', { level: 'info', message: 'later' });
      span.end();
      return { event, context: span.spanContext() };
    });
    await tracer.startActiveSpan('relay', async (span) => {
      await bus.publish(uniqueTopic('otel-link'), made.event);
      span.end();
    });
    const send = spans.getFinishedSpans().find((s) => s.attributes['messaging.message.id'] === made.event.id);
    expect(send?.parentSpanContext?.spanId).not.toBe(made.context.spanId);
    expect(send?.links.map((l) => [l.context.traceId, l.context.spanId])).toEqual([
      [made.context.traceId, made.context.spanId],
    ]);
  });

  it('a failed publish is counted with its error.type and its span marked as an error', async () => {
    const bus = await factory.create();
    const before = sum(await collect(), 'messaging.client.sent.messages', { 'error.type': 'invalid_topic' });
    const event = createEvent('log.append', { level: 'info', message: 'x' });
    await expect(bus.publish('bad\ntopic', event)).rejects.toThrow();
    const after = sum(await collect(), 'messaging.client.sent.messages', { 'error.type': 'invalid_topic' });
    expect(after - before).toBe(1);
    const failed = spans.getFinishedSpans().filter((s) => s.attributes['messaging.message.id'] === event.id);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.status.code).toBe(api.SpanStatusCode.ERROR);
  });

  it('publishes of two buses of one system add up in messaging.client.sent.messages', async () => {
    const [one, two] = [await factory.create(), await factory.create()];
    const attributes = { 'messaging.system': factory.name, 'messaging.destination.template': 'sum:{id}' };
    const before = sum(await collect(), 'messaging.client.sent.messages', attributes);
    await one.publish(`sum:${uniqueTopic()}`, createEvent('log.append', { level: 'info', message: 'a' }));
    await two.publish(`sum:${uniqueTopic()}`, createEvent('log.append', { level: 'info', message: 'b' }));
    await two.publish(`sum:${uniqueTopic()}`, createEvent('log.append', { level: 'info', message: 'c' }));
    const after = sum(await collect(), 'messaging.client.sent.messages', attributes);
    expect(after - before).toBe(3);
  });

  it('the open streams of two handlers in one process add up in repopulse.sse.streams', async () => {
    const bus = await factory.create();
    const before = sum(await collect(), 'repopulse.sse.streams');
    const [one, two] = [await startServer({ bus }), await startServer({ bus })];
    const sources = [one, two, two].map(
      (started) => new EventSource(started.url(uniqueTopic('otel-h').slice(5))),
    );
    try {
      await waitFor(() => one.handler.stats().streams === 1 && two.handler.stats().streams === 2);
      expect(sum(await collect(), 'repopulse.sse.streams') - before).toBe(3);
      sources[0]?.close();
      await one.close(); // a closed handler's streams leave the gauge; the other's stay
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(sum(await collect(), 'repopulse.sse.streams') - before).toBe(2);
      await two.close();
      await new Promise((resolve) => setTimeout(resolve, 5));
      expect(sum(await collect(), 'repopulse.sse.streams')).toBe(before); // not the last value seen
    } finally {
      for (const opened of sources) opened.close();
      await one.close();
      await two.close();
    }
  });

  it('a resume from before the window is one catch-up span; a reset is counted by its reason', async () => {
    const bus = await factory.create();
    const started = await startServer({ bus, windowEvents: 1 });
    server = started;
    const id = uniqueTopic('otel-cu').slice(5);
    const positions: string[] = [];
    for (let i = 0; i < 4; i++) {
      const { position } = await bus.publish(
        `repo:${id}`,
        createEvent('log.append', { level: 'info', message: `${i}` }),
      );
      positions.push(position);
    }
    const before = await collect();
    const seen: string[] = [];
    source = new EventSource(started.url(id, `?last_event_id=${positions[1]}`));
    source.addEventListener('log.append', (e) => seen.push(JSON.parse(e.data).payload.message));
    await waitFor(() => seen.length >= 2);
    expect(seen).toEqual(['2', '3']);
    await waitFor(() =>
      spans
        .getFinishedSpans()
        .some(
          (s) =>
            s.name === 'catch_up repo:{id}' && s.attributes['messaging.destination.name'] === `repo:${id}`,
        ),
    );
    const catchUp = spans
      .getFinishedSpans()
      .find(
        (s) => s.attributes['messaging.destination.name'] === `repo:${id}` && s.name.startsWith('catch_up'),
      );
    expect(catchUp?.kind).toBe(api.SpanKind.CLIENT);
    expect(catchUp?.attributes).toMatchObject({
      'repopulse.catch_up.from': positions[1],
      'repopulse.catch_up.readers': 1,
    });
    const after = await collect();
    expect(sum(after, 'repopulse.sse.catch_up.reads') - sum(before, 'repopulse.sse.catch_up.reads')).toBe(1);

    // A point the bus cannot replay: one reset frame, counted under the reason it carried.
    const reasons: string[] = [];
    const other = new EventSource(started.url(id, '?last_event_id=1-0'));
    other.addEventListener('reset', (e) => reasons.push(JSON.parse(e.data).reason));
    await waitFor(() => reasons.length === 1);
    other.close();
    const reason = reasons[0] as string;
    const reset = await collect();
    expect(
      sum(reset, 'repopulse.sse.resets', { 'repopulse.reset.reason': reason }) -
        sum(before, 'repopulse.sse.resets', { 'repopulse.reset.reason': reason }),
    ).toBe(1);
  });
});

async function startApp(app: express.Express, handler: { close(): Promise<void> }): Promise<TestServer> {
  const { createServer } = await import('node:http');
  const server = createServer(app);
  const sockets = new Set<import('node:net').Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as import('node:net').AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const path = (id: string, query = '') => `/api/repositories/${encodeURIComponent(id)}/events${query}`;
  return {
    origin,
    port,
    server,
    handler: handler as unknown as TestServer['handler'],
    sockets,
    path,
    url: (id, query) => origin + path(id, query),
    async close() {
      await handler.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
