import * as api from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { startOpenTelemetrySdk } from './opentelemetry-sdk';

/** OpenTelemetry for the app: the SDK, the `/metrics` route and a span per HTTP request. */
export interface Telemetry {
  /** `GET /metrics`: every metric in Prometheus text format. */
  metrics: RequestHandler;
  /**
   * Middleware: a SERVER span per request, continuing the caller's `traceparent`; the rest of the
   * request (and the work it starts) runs inside it, so its events carry its trace context.
   */
  tracing: RequestHandler;
  /** Flushes and stops the SDK. */
  shutdown(): Promise<void>;
}

let started: Telemetry | undefined;

/**
 * Starts the OpenTelemetry SDK once per process, configured by the usual `OTEL_*` variables
 * (`OTEL_SERVICE_NAME`, `OTEL_TRACES_EXPORTER` — `otlp` by default, `console` or `none` —,
 * `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_TRACES_SAMPLER`, `OTEL_RESOURCE_ATTRIBUTES`, …), with a
 * Prometheus reader for `/metrics`, then connects RepoPulse to it (`registerOpenTelemetry`).
 * Call before creating the bus and the event routes. `spanProcessors` replace the exporter the
 * variables name (the tests record spans in memory).
 */
export function startTelemetry(spanProcessors?: tracing.SpanProcessor[]): Telemetry {
  if (started) return started;
  const { sdk, prometheus } = startOpenTelemetrySdk(spanProcessors);
  const tracer = api.trace.getTracer('repo-wiki');
  started = {
    metrics: (req, res) => prometheus.getMetricsRequestHandler(req, res),
    tracing: (req: Request, res: Response, next: NextFunction) => {
      const parent = api.propagation.extract(api.context.active(), req.headers);
      const span = tracer.startSpan(
        `${req.method}`,
        {
          kind: api.SpanKind.SERVER,
          attributes: { 'http.request.method': req.method, 'url.path': req.path },
        },
        parent,
      );
      res.setHeader('X-Trace-Id', span.spanContext().traceId);
      res.on('finish', () => {
        const route = req.route?.path;
        if (typeof route === 'string') {
          span.updateName(`${req.method} ${req.baseUrl}${route}`);
          span.setAttribute('http.route', `${req.baseUrl}${route}`);
        }
        span.setAttribute('http.response.status_code', res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
        span.end();
      });
      api.context.with(api.trace.setSpan(parent, span), next);
    },
    async shutdown() {
      await sdk.shutdown();
      started = undefined;
    },
  };
  return started;
}

/** `trace_id` and `span_id` of the active span, for log lines; empty outside of one. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = api.trace.getSpanContext(api.context.active());
  if (!span || !api.isSpanContextValid(span)) return {};
  return { trace_id: span.traceId, span_id: span.spanId };
}
