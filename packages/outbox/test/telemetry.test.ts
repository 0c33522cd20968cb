import * as api from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, traceIdOf } from '@repopulse/events-core';
import { registerOpenTelemetry, unregisterOpenTelemetry } from '@repopulse/events-core/otel';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic, until } from './helpers/collect';
import { sqliteFile } from './helpers/sqlite-file';

class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const spans = new InMemorySpanExporter();
const tracing = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
const reader = new OnDemandReader();
const metering = new MeterProvider({ readers: [reader] });
beforeAll(() => {
  tracing.register();
  api.metrics.setGlobalMeterProvider(metering);
  registerOpenTelemetry(api);
});
afterAll(async () => {
  unregisterOpenTelemetry();
  await tracing.shutdown();
  await metering.shutdown();
  api.trace.disable();
  api.context.disable();
  api.metrics.disable();
});

function value(metrics: ResourceMetrics, name: string): number | undefined {
  for (const scope of metrics.scopeMetrics)
    for (const metric of scope.metrics)
      if (metric.descriptor.name === name) return metric.dataPoints[0]?.value as number | undefined;
  return undefined;
}

describe('the outbox under OpenTelemetry', () => {
  it('keeps trace context, the relay publish joins the trace of the request that made the event, and the backlog is a metric', async () => {
    const file = sqliteFile();
    const bus = createMemoryBus();
    const outbox = createOutbox({ store: createSqliteStore(file.db), bus });
    try {
      const tracer = api.trace.getTracer('app');
      const made = tracer.startActiveSpan('POST /tasks', (span) => {
        const event = file.db.transaction(() =>
          outbox.enqueue(file.db, 'repo:7', createEvent('log.append', { level: 'info', message: 'x' })),
        )();
        span.end();
        return { event, context: span.spanContext() };
      });
      expect(traceIdOf(made.event.traceparent)).toBe(made.context.traceId);
      await until(async () => (await replayTopic(bus, 'repo:7')).length === 1);
      const [delivered] = await replayTopic(bus, 'repo:7');
      expect(delivered?.event.traceparent).toBe(made.event.traceparent);
      const send = spans
        .getFinishedSpans()
        .find((s) => s.attributes['messaging.message.id'] === made.event.id);
      // In the creating request's trace: as its child when the relay was woken from it, else linked.
      expect(send?.spanContext().traceId).toBe(made.context.traceId);
      expect([
        send?.parentSpanContext?.spanId,
        ...(send?.links ?? []).map((l) => l.context.spanId),
      ]).toContain(made.context.spanId);

      const { resourceMetrics, errors } = await reader.collect();
      expect(errors).toEqual([]);
      expect(value(resourceMetrics, 'repopulse.outbox.pending')).toBe(0);
      expect(value(resourceMetrics, 'repopulse.outbox.delivered')).toBe(1);
      expect(value(resourceMetrics, 'repopulse.outbox.oldest_pending_age')).toBe(0);
    } finally {
      await outbox.close();
      await bus.close();
      file.remove();
    }
  });
});
