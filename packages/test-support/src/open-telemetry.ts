import * as api from '@opentelemetry/api';
import {
  AggregationTemporality,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Collects on demand, like a Prometheus scrape. */
class OnDemandReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** A real OpenTelemetry SDK for one test file: spans kept in memory, metrics collected on demand. */
export interface TestOpenTelemetry {
  /** Every span ended since {@link TestOpenTelemetry.start}. */
  readonly spans: InMemorySpanExporter;
  /**
   * Makes the SDK's tracer and meter providers the global ones of `@opentelemetry/api`, then hands
   * that API to `register` (`registerOpenTelemetry`). In `beforeAll`.
   */
  start(register: (otelApi: typeof api) => void): void;
  /** Collects every metric now; throws when the collection reported errors. */
  collect(): Promise<ResourceMetrics>;
  /** Calls `unregister` (`unregisterOpenTelemetry`), shuts the SDK down and disables the global API again. In `afterAll`. */
  stop(unregister: () => void): Promise<void>;
}

/**
 * The OpenTelemetry SDK the telemetry tests run against.
 *
 * @example
 * ```ts
 * const otel = createTestOpenTelemetry();
 * beforeAll(() => otel.start(registerOpenTelemetry));
 * afterAll(() => otel.stop(unregisterOpenTelemetry));
 * ```
 */
export function createTestOpenTelemetry(): TestOpenTelemetry {
  const spans = new InMemorySpanExporter();
  const tracing = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const reader = new OnDemandReader();
  const metering = new MeterProvider({ readers: [reader] });
  return {
    spans,
    start(register) {
      tracing.register();
      api.metrics.setGlobalMeterProvider(metering);
      register(api);
    },
    async collect() {
      const { resourceMetrics, errors } = await reader.collect();
      if (errors.length) throw new AggregateError(errors, 'the metric collection failed');
      return resourceMetrics;
    },
    async stop(unregister) {
      unregister();
      await tracing.shutdown();
      await metering.shutdown();
      api.trace.disable();
      api.context.disable();
      api.propagation.disable();
      api.metrics.disable();
    },
  };
}

/**
 * The value of metric `name` in `metrics`: the sum of its data points whose attributes include
 * `attributes` (a histogram's point counts its recordings), or `undefined` when none matched.
 */
export function metricValue(
  metrics: ResourceMetrics,
  name: string,
  attributes: Record<string, string> = {},
): number | undefined {
  let total: number | undefined;
  for (const scope of metrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      for (const point of metric.dataPoints) {
        if (!Object.entries(attributes).every(([key, value]) => point.attributes[key] === value)) continue;
        const value = point.value as number | { count: number };
        total = (total ?? 0) + (typeof value === 'number' ? value : value.count);
      }
    }
  }
  return total;
}
