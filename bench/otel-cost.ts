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
import { createRedisBus } from '@repopulse/bus-redis';
import { createEvent, type EventBus } from '@repopulse/events-core';
import { registerOpenTelemetry, unregisterOpenTelemetry } from '@repopulse/events-core/otel';
import { Redis } from 'ioredis';
import { compare, resultsTable, type VariantResult } from './harness';
import { num, ratio } from './markdown';
import { type AppVariant, appTaskUpdates } from './otel-app-workload';
import { createTally, openSseClients, type SseClients } from './otel-rig';
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

/** One row: a mode on a bus. */
interface Variant {
  mode: Mode;
  transport: 'memory' | 'redis';
  /** The row's label. */
  name: string;
}

/**
 * What OpenTelemetry costs: publish (one subscriber) and fan-out (sse-express, SSE clients on real
 * sockets). Every variant runs on the memory bus (the reference app's default bus, and the cheapest
 * publish, so the largest relative cost); off and on run on the Redis bus too (what a deployed app
 * runs). The workload is a server's: each request handler runs inside its own
 * SERVER span (as the reference app's middleware starts one), makes a fresh `createEvent` per event
 * and publishes it. Variants: the SDK on (no-op span exporter, an unscraped metric reader,
 * `registerOpenTelemetry`); the same with one trace in ten sampled; the SDK on without
 * `registerOpenTelemetry` (the app's own request spans only: what is left is RepoPulse's share); the
 * same with each event given its request's `traceparent` (what carrying the field costs, apart from
 * RepoPulse's spans and metrics); only the API registered (no SDK: no-op tracer and meter); off
 * (never registered: what an app without `@opentelemetry/api` runs, since no RepoPulse package
 * imports it and `createEvent` then only finds an empty slot). Interleaved rounds, one process.
 * Last, the reference app's own publish path (a task update committed with its events through the
 * app's outbox, relayed to the bus; see {@link appTaskUpdates}), off and on, on both buses.
 */
export async function otelCost({ quick, redisUrl }: BenchContext): Promise<BenchSection> {
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
  // Every mode on the memory bus; off and on again on the Redis bus, as extra rows of the same run.
  const variants: Variant[] = [
    ...modes.map((mode): Variant => ({ mode, transport: 'memory', name: labels[mode] })),
    { mode: 'off', transport: 'redis', name: `Redis bus: ${labels.off}` },
    { mode: 'on', transport: 'redis', name: `Redis bus: ${labels.on}` },
  ];
  // Each Redis bus has a key prefix of its own (topic `repo:1` on every bus, never shared); the keys
  // are deleted at the end.
  const prefix = `bench:otel:${process.pid}:${Date.now()}:`;
  const makeBus = (variant: Variant, use: string) =>
    variant.transport === 'memory'
      ? createMemoryBus({ historyLimit: 10_000 })
      : createRedisBus({
          url: redisUrl,
          keyPrefix: `${prefix}${use}-${variant.mode}:`,
          historyLimit: 10_000,
        });
  const opened: EventBus[] = [];
  const rigs: SseClients[] = [];
  try {
    // Publish: a bus per variant, made while its mode is in force (instruments are made at creation).
    const received = createTally();
    const buses = new Map<Variant, EventBus>();
    for (const variant of variants) {
      enter(variant.mode);
      const bus = makeBus(variant, 'publish');
      opened.push(bus);
      await bus.subscribe('repo:1', () => received.add());
      buses.set(variant, bus);
    }
    const publishOps = quick ? 1000 : 10_000;
    const rounds = quick ? 1 : 5;
    // A request announces a few changes (the app's create: one event on three topics, a status
    // change), one publish after the other; 20 requests are in flight at a time.
    const perRequest = 5;
    const inFlight = 20;
    const publish = await compare(
      variants.map((variant) => ({
        name: variant.name,
        run: async (ops: number) => {
          const { mode } = variant;
          enter(mode);
          const bus = buses.get(variant) as EventBus;
          const delivered = received.until(ops, `publish, ${variant.name}`);
          const handle = () =>
            inRequest(mode, async () => {
              for (let i = 0; i < perRequest; i++) await bus.publish('repo:1', event(mode));
            });
          for (let done = 0; done < ops; done += perRequest * inFlight) {
            await Promise.all(Array.from({ length: inFlight }, handle));
          }
          await delivered;
        },
      })),
      { ops: publishOps, rounds, clock: 'cpu' },
    );

    // Fan-out: per variant, a bus and an SSE handler made while its mode is in force, with N clients.
    const clients = quick ? 20 : 100;
    const fanOut = new Map<Variant, { bus: EventBus; rig: SseClients }>();
    for (const variant of variants) {
      enter(variant.mode);
      const bus = makeBus(variant, 'fan-out');
      opened.push(bus);
      const rig = await openSseClients(bus, clients);
      rigs.push(rig);
      fanOut.set(variant, { bus, rig });
    }
    const events = quick ? 50 : 500;
    const fan = await compare(
      variants.map((variant) => ({
        name: variant.name,
        run: async (ops: number) => {
          const { mode } = variant;
          enter(mode);
          const { bus, rig } = fanOut.get(variant) as { bus: EventBus; rig: SseClients };
          const delivered = rig.frames.until(ops, `fan-out, ${variant.name}`);
          for (let i = 0; i < ops / clients; i++)
            await inRequest(mode, () => bus.publish('repo:1', event(mode)));
          await delivered;
        },
      })),
      { ops: events * clients, rounds, clock: 'cpu' },
    );

    // The app's own publish path: a task update through its outbox, off and on, on both buses.
    const appVariants: AppVariant<Mode>[] = [
      { mode: 'off', transport: 'memory', name: labels.off },
      { mode: 'on', transport: 'memory', name: labels.on },
      { mode: 'sdk-only', transport: 'memory', name: labels['sdk-only'] },
      { mode: 'off', transport: 'redis', name: `Redis bus: ${labels.off}` },
      { mode: 'on', transport: 'redis', name: `Redis bus: ${labels.on}` },
    ];
    const appUpdates = quick ? 200 : 2000;
    const app = await appTaskUpdates({
      variants: appVariants,
      updates: appUpdates,
      rounds,
      redisUrl,
      keyPrefix: prefix,
      enter,
      inRequest,
    });
    const redisAppOff = app.find((r) => r.name === `Redis bus: ${labels.off}`) as VariantResult;
    const appRows = app.map((r, at) =>
      appVariants[at]?.transport === 'redis' ? { ...r, ratio: r.opsPerSecond / redisAppOff.opsPerSecond } : r,
    );

    // The Redis rows are compared with Redis off, not with the memory bus.
    const byTransport = (results: VariantResult[]) => {
      const redisOff = results.find((r) => r.name === variants[modes.length]?.name) as VariantResult;
      return results.map((r, at) =>
        variants[at]?.transport === 'redis' ? { ...r, ratio: r.opsPerSecond / redisOff.opsPerSecond } : r,
      );
    };
    const publishRows = byTransport(publish);
    const fanRows = byTransport(fan);
    const ratioOf = (name: string) => (results: VariantResult[]) =>
      results.find((r) => r.name === name)?.ratio ?? Number.NaN;
    const on = ratioOf(labels.on);
    const sampled = ratioOf(labels.sampled);
    const redisOn = ratioOf(`Redis bus: ${labels.on}`);
    // On ÷ off within each round (the two ran one after the other): how steady the ratio is.
    const perRound = (results: VariantResult[]) => {
      const samples = (name: string) => results.find((r) => r.name === name)?.samples ?? [];
      const line = (on: string, off: string) => {
        const offSamples = samples(off);
        return samples(on)
          .map((value, round) => ratio(value / (offSamples[round] ?? Number.NaN)))
          .join(', ');
      };
      return (
        `"on" ÷ "off" round by round: memory bus ${line(labels.on, labels.off)}; ` +
        `Redis bus ${line(`Redis bus: ${labels.on}`, `Redis bus: ${labels.off}`)}.`
      );
    };
    return {
      markdown: [
        '## OpenTelemetry cost',
        '',
        `Publish: ${num(publishOps)} publishes per round with one subscriber, from request`,
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
        'The rows without a bus name run on the memory bus (in process: the CPU-bound worst case); the',
        '"Redis bus" rows run the same workloads, off and on, on `@repopulse/bus-redis` (what a deployed',
        "app runs; Redis's own CPU, in another process, is not counted), in the same interleaved rounds;",
        'their ratio is to "Redis bus: off".',
        '',
        '### Publish',
        '',
        resultsTable(publishRows),
        '',
        perRound(publish),
        '',
        '### Fan-out',
        '',
        resultsTable(fanRows),
        '',
        perRound(fan),
        '',
        "### The reference app's task update",
        '',
        `What an app's publish is: ${num(appUpdates)} requests per round, each one task status change as`,
        "the reference app's task runner makes it (`TaskService.setStatus` on the app's SQLite schema, WAL,",
        '`synchronous = NORMAL`: the task row, the repository recompute, `task.status_changed` and, when the',
        "repository's status changes, `repo.status_changed` on three topics, enqueued in the same transaction,",
        "each a fresh `createEvent`), and the app's outbox relay publishing them after the commit (its `send`",
        'spans linked to the request); the round ends when the relay has delivered everything. A database,',
        'outbox and bus per variant; timed by CPU time like the rows above; the Redis rows against "Redis bus: off".',
        '',
        resultsTable(appRows),
        '',
        perRound(app),
      ].join('\n'),
      bars: [
        { label: 'otel on: publish', value: on(publishRows), target: 0.9, better: 'higher' },
        { label: 'otel on: fan-out', value: on(fanRows), target: 0.9, better: 'higher' },
        {
          label: 'otel 1 in 10 sampled: publish',
          value: sampled(publishRows),
          target: 0.9,
          better: 'higher',
        },
        { label: 'otel on, Redis bus: publish', value: redisOn(publishRows), target: 0.9, better: 'higher' },
        { label: 'otel on, Redis bus: fan-out', value: redisOn(fanRows), target: 0.9, better: 'higher' },
        { label: 'otel on: app task update', value: on(appRows), target: 0.9, better: 'higher' },
        {
          label: 'otel on, Redis bus: app task update',
          value: redisOn(appRows),
          target: 0.9,
          better: 'higher',
        },
      ],
    };
  } finally {
    enter('off');
    await Promise.all(rigs.map((rig) => rig.close()));
    await Promise.all(opened.map((bus) => bus.close()));
    await tracing.shutdown();
    await sampledTracing.shutdown();
    await metering.shutdown();
    api.trace.disable();
    api.metrics.disable();
    api.context.disable();
    const redis = new Redis(redisUrl);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  }
}
