import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as api from '@opentelemetry/api';
import { AggregationTemporality, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  type ReadableSpan,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
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

type Mode = 'off' | 'on' | 'sampled' | 'sdk-only' | 'sdk-traceparent' | 'api-only';

/**
 * What OpenTelemetry costs, on the memory bus (the reference app's default bus, and the cheapest
 * publish, so the largest relative cost): publish (one subscriber) and fan-out (sse-express, SSE
 * clients on real sockets). The workload is a server's: each request handler runs inside its own
 * SERVER span (as the reference app's middleware starts one), makes a fresh `createEvent` per event
 * and publishes it. Variants: the SDK on (no-op span exporter, an unscraped metric reader,
 * `registerOpenTelemetry`); the same with one trace in ten sampled; the SDK on without
 * `registerOpenTelemetry` (the app's own request spans only: what is left is RepoPulse's share); the
 * same with each event given its request's `traceparent` (what carrying the field costs, apart from
 * RepoPulse's spans and metrics); only the API registered (no SDK: no-op tracer and meter); off (never registered: what an app without `@opentelemetry/api` runs, since no RepoPulse
 * package imports it and `createEvent` then only finds an empty slot). Interleaved rounds, one
 * process.
 */
export async function otelCost({ quick }: BenchContext): Promise<BenchSection> {
  const tracing = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(new NoopExporter())] });
  // What a busy production service configures: one trace in ten recorded (OTEL_TRACES_SAMPLER=
  // parentbased_traceidratio, OTEL_TRACES_SAMPLER_ARG=0.1).
  const sampledTracing = new NodeTracerProvider({
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) }),
    spanProcessors: [new BatchSpanProcessor(new NoopExporter())],
  });
  const metering = new MeterProvider({ readers: [new IdleReader()] });
  const tracers = { on: tracing.getTracer('bench'), sampled: sampledTracing.getTracer('bench') };
  // The global API is switched per variant; `off` and `api-only` have no SDK.
  const enter = (mode: Mode) => {
    api.trace.disable();
    api.metrics.disable();
    api.context.disable();
    unregisterOpenTelemetry();
    if (mode === 'off') return;
    if (mode !== 'api-only') {
      (mode === 'sampled' ? sampledTracing : tracing).register();
      api.metrics.setGlobalMeterProvider(metering);
    }
    if (mode !== 'sdk-only' && mode !== 'sdk-traceparent') registerOpenTelemetry(api);
  };
  /** Runs `fn` as a request handler would: inside its request's SERVER span when the SDK is on. */
  const inRequest = <T>(mode: Mode, fn: () => Promise<T>): Promise<T> =>
    mode !== 'off' && mode !== 'api-only'
      ? tracers[mode === 'sampled' ? 'sampled' : 'on'].startActiveSpan(
          'POST /api/action',
          { kind: api.SpanKind.SERVER },
          async (span) => {
            try {
              return await fn();
            } finally {
              span.end();
            }
          },
        )
      : fn();

  // `sdk-traceparent` gives each event its request's traceparent itself, formatted once per span as
  // `registerOpenTelemetry` does: the events are those of `on`, without RepoPulse's spans and metrics.
  const traceparents = new WeakMap<api.SpanContext, string>();
  const requestTraceparent = () => {
    const span = api.trace.getSpanContext(api.context.active()) as api.SpanContext;
    let traceparent = traceparents.get(span);
    if (traceparent === undefined) {
      traceparent = `00-${span.traceId}-${span.spanId}-0${span.traceFlags & 1}`;
      traceparents.set(span, traceparent);
    }
    return traceparent;
  };
  const event = (mode: Mode) =>
    createEvent(
      'task.progress',
      { phase: 'llm', percent: 40, message: 'x'.repeat(200) },
      mode === 'sdk-traceparent' ? { repo_id: 1, traceparent: requestTraceparent() } : { repo_id: 1 },
    );
  const modes: Mode[] = ['off', 'on', 'sampled', 'sdk-only', 'sdk-traceparent', 'api-only'];
  const labels: Record<Mode, string> = {
    off: 'off (never registered = API absent)',
    on: 'on: SDK, no-op exporter',
    sampled: 'on, 1 trace in 10 sampled',
    'sdk-only': 'SDK on, RepoPulse not registered',
    'sdk-traceparent': 'the same, events given the traceparent',
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
  // A request announces a few changes (the app's create: one event on three topics, a status
  // change), one publish after the other; 20 requests are in flight at a time.
  const perRequest = 5;
  const inFlight = 20;
  const publish = await compare(
    modes.map((mode) => ({
      name: labels[mode],
      run: async (ops: number) => {
        enter(mode);
        const bus = buses.get(mode) as EventBus;
        const start = received;
        const handle = () =>
          inRequest(mode, async () => {
            for (let i = 0; i < perRequest; i++) await bus.publish('repo:1', event(mode));
          });
        for (let done = 0; done < ops; done += perRequest * inFlight) {
          await Promise.all(Array.from({ length: inFlight }, handle));
        }
        await waitFor(start + ops);
      },
    })),
    { ops: publishOps, rounds, clock: 'cpu' },
  );

  // Fan-out: per mode, a bus and an SSE handler made while the mode is in force, with N clients.
  const clients = quick ? 20 : 100;
  const servers: { close(): Promise<void> }[] = [];
  /** A mode's bus, and `until(n)`: resolves once its clients received `n` more frames. */
  type FanOut = { bus: EventBus; until(count: number): Promise<void> };
  const fanOut = new Map<Mode, FanOut>();
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
    // Woken by the clients' data handlers, not polled: a poll would spend CPU time while waiting.
    let waiting: { target: number; resolve: () => void } | undefined;
    const counted = () => {
      if (waiting && frames >= waiting.target) {
        waiting.resolve();
        waiting = undefined;
      }
    };
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
                  counted();
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
    fanOut.set(mode, {
      bus,
      until: (count) =>
        new Promise<void>((resolve, reject) => {
          const timer = setTimeout(
            () => reject(new Error(`fan-out ${mode}: frames missing after 60 s`)),
            60_000,
          );
          waiting = {
            target: frames + count,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          };
        }),
    });
    servers.push({
      async close() {
        for (const socket of sockets) socket.destroy();
        await handler.close();
        await new Promise((resolve) => server.close(resolve));
        await bus.close();
      },
    });
  }
  const events = quick ? 50 : 500;
  const fan = await compare(
    modes.map((mode) => ({
      name: labels[mode],
      run: async (ops: number) => {
        enter(mode);
        const { bus, until } = fanOut.get(mode) as FanOut;
        const received = until(ops);
        for (let i = 0; i < ops / clients; i++)
          await inRequest(mode, () => bus.publish('repo:1', event(mode)));
        await received;
      },
    })),
    { ops: events * clients, rounds, clock: 'cpu' },
  );

  enter('off');
  await Promise.all([...servers.map((s) => s.close()), ...[...buses.values()].map((b) => b.close())]);
  await tracing.shutdown();
  await sampledTracing.shutdown();
  await metering.shutdown();
  api.trace.disable();
  api.metrics.disable();
  api.context.disable();
  const ratioOf = (mode: Mode) => (results: typeof publish) =>
    results.find((r) => r.name === labels[mode])?.ratio ?? Number.NaN;
  const on = ratioOf('on');
  const sampled = ratioOf('sampled');
  return {
    markdown: [
      '## OpenTelemetry cost',
      '',
      `Publish: ${num(publishOps)} publishes per round on the memory bus with one subscriber, from request`,
      `handlers (${perRequest} publishes one after the other per request, ${inFlight} requests in flight), a fresh`,
      '`createEvent` per publish. Fan-out: ' +
        `${num(events)} events per round, one per request, to ${num(clients)} SSE clients on real sockets`,
      `(deliveries). ${rounds} interleaved round(s), one process; a round is timed by the CPU time the`,
      'process used (user + system, every thread, the garbage collector included: clients, server and',
      'SDK all run in it), so "ops/s" is operations per CPU second, which holds on a loaded machine.',
      'With the SDK on, each request runs in its own SERVER span (so events carry its `traceparent`);',
      '"on" is the SDK with a no-op span',
      'exporter and an unscraped metric reader (every trace recorded, the SDK default), plus',
      '`registerOpenTelemetry`; "1 trace in 10" is the same with `parentbased_traceidratio` 0.1;',
      '"events given the traceparent" is the SDK without `registerOpenTelemetry`, each event given its',
      "request's `traceparent` (the bytes `on` carries, without RepoPulse's spans and metrics).",
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
      { label: 'otel 1 in 10 sampled: publish', value: sampled(publish), target: 0.9, better: 'higher' },
    ],
  };
}
