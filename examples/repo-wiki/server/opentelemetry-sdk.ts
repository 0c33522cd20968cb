import * as api from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { NodeSDK, type tracing } from '@opentelemetry/sdk-node';
import { registerOpenTelemetry } from '@repopulse/events-core/otel';

/**
 * Starts the OpenTelemetry SDK, configured by the `OTEL_*` environment variables, with a
 * Prometheus reader for `GET /metrics`, then connects RepoPulse to it. Call before creating the
 * bus, the outbox and the event routes. `spanProcessors`, when given, replace the exporter the
 * variables name (the tests pass an in-memory one).
 */
export function startOpenTelemetrySdk(spanProcessors?: tracing.SpanProcessor[]): {
  sdk: NodeSDK;
  prometheus: PrometheusExporter;
} {
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'repo-wiki',
    metricReader: prometheus,
    instrumentations: [],
    ...(spanProcessors ? { spanProcessors } : {}),
  });
  sdk.start();
  registerOpenTelemetry(api);
  return { sdk, prometheus };
}
