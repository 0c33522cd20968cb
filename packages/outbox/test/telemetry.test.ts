import * as api from '@opentelemetry/api';
import { createMemoryBus } from '@repopulse/bus-memory';
import { createEvent, traceIdOf } from '@repopulse/events-core';
import { registerOpenTelemetry, unregisterOpenTelemetry } from '@repopulse/events-core/otel';
import { createTestOpenTelemetry, metricValue } from '@repopulse/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOutbox } from '../src/index';
import { createSqliteStore } from '../src/sqlite/index';
import { replayTopic, until } from './helpers/collect';
import { sqliteFile } from './helpers/sqlite-file';

const otel = createTestOpenTelemetry();
const { spans } = otel;
beforeAll(() => otel.start(registerOpenTelemetry));
afterAll(() => otel.stop(unregisterOpenTelemetry));

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

      const resourceMetrics = await otel.collect();
      expect(metricValue(resourceMetrics, 'repopulse.outbox.pending')).toBe(0);
      expect(metricValue(resourceMetrics, 'repopulse.outbox.delivered')).toBe(1);
      expect(metricValue(resourceMetrics, 'repopulse.outbox.oldest_pending_age')).toBe(0);
    } finally {
      await outbox.close();
      await bus.close();
      file.remove();
    }
  });
});
