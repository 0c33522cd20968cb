import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, type EventBus } from '@repopulse/events-core';
import { registerOpenTelemetry, unregisterOpenTelemetry } from '@repopulse/events-core/otel';
import { createEventStreamHandler } from '@repopulse/sse-express';
import express from 'express';
import { compare, resultsTable } from './harness';
import { num } from './markdown';
import type { BenchContext, BenchSection } from './scenario';

/** An exporter that drops everything: the SDK does all its work, nothing leaves the process. */
class NoopExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** A metric reader nobody scrapes: instruments aggregate as under any exporter. */
class IdleReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

type Mode = 'off' | 'on' | 'api-only';

/**
 * What OpenTelemetry costs: publish (memory bus, one subscriber) and fan-out (sse-express, SSE
 * clients on real sockets) with the SDK on (no-op span exporter, an unscraped metric reader,
 * every publish inside an active span so events carry `traceparent`), with only the API registered
 * (no SDK: no-op tracer and meter), and off (never registered: what an app without
 * `@opentelemetry/api` runs, since no RepoPulse package imports it). Interleaved rounds, one process.
 */
export async function otelCost({ quick }: BenchContext): Promise<BenchSection> {
  const tracing = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new NoopExporter())] });
  const metering = new MeterProvider({ readers: [new IdleReader()] });
  const tracer = tracing.getTracer('bench');
  // Only `on` has an SDK; the global API is switched per variant.
  const enter = (mode: Mode) => {
    api.trace.disable();
    api.metrics.disable();
    api.context.disable();
    unregisterOpenTelemetry();
    if (mode === 'off') return;
    if (mode === 'on') {
      tracing.register();
      api.metrics.setGlobalMeterProvider(metering);
    }
    registerOpenTelemetry(api);
  };
  /** Runs `fn` as a request handler would: inside an active span when the SDK is on. */
  const inRequest = <T>(mode: Mode, fn: () => Promise<T>): Promise<T> =>
    mode === 'on'
      ? tracer.startActiveSpan('request', async (span) => {
          try {
            return await fn();
          } finally {
            span.end();
          }
        })
      : fn();

  const event = () =>
    createEvent('task.progress', { phase: 'llm', percent: 40, message: 'x'.repeat(200) }, { repo_id: 1 });
  const modes: Mode[] = ['off', 'on', 'api-only'];
  const labels: Record<Mode, string> = {
    off: 'off (never registered = API absent)',
    on: 'on: SDK, no-op exporter',
    'api-only': 'API registered, no SDK',
  };

  // Publish: a bus per mode, made while its mode is in force (instruments are made at creation).
  const buses = new Map<Mode, EventBus>();
  let received = 0;
  for (const mode of modes) {
    enter(mode);
    const bus = createMemoryBus({ historyLimit: 10_000 });
    await bus.subscribe('repo:1', () => void received++);
    buses.set(mode, bus);
  }
  const waitFor = (target: number) =>
    new Promise<void>((resolve) => {
      const check = () => (received >= target ? resolve() : setImmediate(check));
      check();
    });
  const publishOps = quick ? 1000 : 10_000;
  const rounds = quick ? 1 : 5;
  const publish = await compare(
    modes.map((mode) => ({
      name: labels[mode],
      run: async (ops: number) => {
        enter(mode);
        const bus = buses.get(mode) as EventBus;
        const start = received;
        await inRequest(mode, async () => {
          for (let i = 0; i < ops; i += 100) {
            await Promise.all(Array.from({ length: 100 }, () => bus.publish('repo:1', event())));
          }
        });
        await waitFor(start + ops);
      },
    })),
    { ops: publishOps, rounds },
  );

  // Fan-out: per mode, a bus and an SSE handler made while the mode is in force, with N clients.
  const clients = quick ? 20 : 100;
  const servers: { close(): Promise<void> }[] = [];
  const fanOut = new Map<Mode, { bus: EventBus; frames: () => number }>();
  for (const mode of modes) {
    enter(mode);
    const bus = createMemoryBus({ historyLimit: 10_000 });
    const handler = createEventStreamHandler({ bus, topic: () => 'repo:1' });
    const app = express();
    app.get('/events', handler);
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    let frames = 0;
    const sockets: { destroy(): void }[] = [];
    await Promise.all(
      Array.from(
        { length: clients },
        () =>
          new Promise<void>((resolve, reject) => {
            const req = request(
              { port, host: '127.0.0.1', path: '/events', headers: { accept: 'text/event-stream' } },
              (res) => {
                sockets.push(res.socket);
                res.setEncoding('utf8');
                // Frames are counted by their `\nid: ` line; the last 4 characters carry over, so a line
                // split between two chunks counts once.
                let carry = '';
                res.on('data', (chunk: string) => {
                  const text = carry + chunk;
                  for (let at = text.indexOf('\nid: '); at !== -1; at = text.indexOf('\nid: ', at + 1))
                    frames++;
                  carry = text.slice(-4);
                });
                resolve();
              },
            );
            req.on('error', reject);
            req.end();
          }),
      ),
    );
    while (handler.stats().streams < clients) await new Promise((resolve) => setTimeout(resolve, 10));
    fanOut.set(mode, { bus, frames: () => frames });
    servers.push({
      async close() {
        for (const socket of sockets) socket.destroy();
        await handler.close();
        await new Promise((resolve) => server.close(resolve));
        await bus.close();
      },
    });
  }
  const events = quick ? 50 : 100;
  const fan = await compare(
    modes.map((mode) => ({
      name: labels[mode],
      run: async (ops: number) => {
        enter(mode);
        const { bus, frames } = fanOut.get(mode) as { bus: EventBus; frames: () => number };
        const target = frames() + ops;
        await inRequest(mode, async () => {
          for (let i = 0; i < ops / clients; i++) await bus.publish('repo:1', event());
        });
        const deadline = Date.now() + 60_000;
        while (frames() < target) {
          if (Date.now() > deadline)
            throw new Error(`fan-out ${mode}: ${target - frames()} frames missing after 60 s`);
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
    })),
    { ops: events * clients, rounds },
  );

  enter('off');
  await Promise.all([...servers.map((s) => s.close()), ...[...buses.values()].map((b) => b.close())]);
  await tracing.shutdown();
  await metering.shutdown();
  api.trace.disable();
  api.metrics.disable();
  api.context.disable();
  const on = (results: typeof publish) => results.find((r) => r.name === labels.on)?.ratio ?? Number.NaN;
  return {
    markdown: [
      '## OpenTelemetry cost',
      '',
      `Publish: ${num(publishOps)} publishes per round (a fresh \`createEvent\` each, 100 at a time) on the`,
      'memory bus with one subscriber. Fan-out: ' +
        `${num(events)} events per round to ${num(clients)} SSE clients on real sockets (deliveries/s).`,
      `${rounds} interleaved round(s), one process. "On" is the SDK with a no-op span exporter and an`,
      'unscraped metric reader, every publish inside an active span (so events carry `traceparent`).',
      '',
      '### Publish',
      '',
      resultsTable(publish),
      '',
      '### Fan-out',
      '',
      resultsTable(fan),
    ].join('\n'),
    bars: [
      { label: 'otel on: publish', value: on(publish), target: 0.9, better: 'higher' },
      { label: 'otel on: fan-out', value: on(fan), target: 0.9, better: 'higher' },
    ],
  };
}
