import { TRACE_SOURCE, type TraceContext } from '../trace-context';
import type { OpenTelemetryApi, OtelSpanContext } from './api';

const API_SLOT = Symbol.for('@repopulse/events-core.openTelemetry');

type Slots = { [API_SLOT]?: OpenTelemetryApi; [TRACE_SOURCE]?: () => TraceContext | undefined };

/**
 * Connects RepoPulse to OpenTelemetry. From then on `createEvent` stamps each event with the active
 * span's `traceparent` (and `tracestate`), buses and SSE handlers created afterwards record spans
 * and metrics through `api`. Call it once at startup, after the OpenTelemetry SDK started (metric
 * instruments are made when a bus or handler is created). Without this call nothing of
 * OpenTelemetry is loaded or recorded. Calling it again replaces the API.
 *
 * @param api - the `@opentelemetry/api` 1.x namespace.
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * import { registerOpenTelemetry } from '@repopulse/events-core/otel';
 *
 * registerOpenTelemetry(api);
 * ```
 */
export function registerOpenTelemetry(api: OpenTelemetryApi): void {
  const slots = globalThis as Slots;
  slots[API_SLOT] = api;
  // A span's context is one object for its whole life: its text is made once, not per event
  // (requests in flight interleave, so one per span context, not just the last one).
  const known = new WeakMap<OtelSpanContext, TraceContext | null>();
  slots[TRACE_SOURCE] = () => {
    const span = api.trace.getSpanContext(api.context.active());
    if (!span) return undefined;
    let context = known.get(span);
    if (context === undefined) {
      context = traceContextOf(span) ?? null;
      known.set(span, context);
    }
    return context ?? undefined;
  };
}

/**
 * Undoes {@link registerOpenTelemetry}: new events carry no trace context and new buses and
 * handlers record nothing (those already created keep their instruments).
 *
 * @example
 * ```ts
 * unregisterOpenTelemetry();
 * ```
 */
export function unregisterOpenTelemetry(): void {
  const slots = globalThis as Slots;
  delete slots[API_SLOT];
  delete slots[TRACE_SOURCE];
}

/**
 * The API passed to {@link registerOpenTelemetry}, or `undefined`; for packages that instrument
 * themselves (buses, servers).
 *
 * @example
 * ```ts
 * const meter = registeredOpenTelemetry()?.metrics.getMeter('my-bus');
 * ```
 */
export function registeredOpenTelemetry(): OpenTelemetryApi | undefined {
  return (globalThis as Slots)[API_SLOT];
}

const hex2 = (n: number) => (n & 0xff).toString(16).padStart(2, '0');

function traceContextOf(span: OtelSpanContext | undefined): TraceContext | undefined {
  if (!span || !/^[0-9a-f]{32}$/.test(span.traceId) || /^0+$/.test(span.traceId)) return undefined;
  const context: TraceContext = {
    traceparent: `00-${span.traceId}-${span.spanId}-${hex2(span.traceFlags)}`,
  };
  const state = span.traceState?.serialize();
  if (state) context.tracestate = state;
  return context;
}

/**
 * The span context a `traceparent` names, for span links; `undefined` when it is not valid.
 *
 * @example
 * ```ts
 * const link = spanContextOf(event.traceparent);
 * if (link) tracer.startSpan('process', { links: [{ context: link }] });
 * ```
 */
export function spanContextOf(
  traceparent: string | undefined,
): Omit<OtelSpanContext, 'traceState'> | undefined {
  if (typeof traceparent !== 'string' || traceparent.length < 55) return undefined;
  const traceId = traceparent.slice(3, 35);
  const spanId = traceparent.slice(36, 52);
  const flags = Number.parseInt(traceparent.slice(53, 55), 16);
  if (!/^[0-9a-f]{32}$/.test(traceId) || !/^[0-9a-f]{16}$/.test(spanId) || Number.isNaN(flags))
    return undefined;
  return { traceId, spanId, traceFlags: flags, isRemote: true };
}

/**
 * A topic's low-cardinality name for spans and metrics (`messaging.destination.template`): the part
 * after the first `:` becomes `{id}` (`repo:42` → `repo:{id}`); a topic without `:` stays as is.
 *
 * @example
 * ```ts
 * destinationTemplate('repo:42'); // 'repo:{id}'
 * destinationTemplate('repos'); // 'repos'
 * ```
 */
export function destinationTemplate(topic: string): string {
  const colon = topic.indexOf(':');
  return colon === -1 ? topic : `${topic.slice(0, colon + 1)}{id}`;
}
