/**
 * OpenTelemetry for RepoPulse, without a dependency on it: pass the `@opentelemetry/api` namespace
 * to {@link registerOpenTelemetry} and events carry W3C trace context, buses and SSE handlers
 * record spans and metrics. Nothing here imports `@opentelemetry/api`; the browser client never
 * loads this entry point.
 *
 * @packageDocumentation
 */
export type {
  OpenTelemetryApi,
  OtelAttributes,
  OtelCounter,
  OtelHistogram,
  OtelInstrumentOptions,
  OtelMeter,
  OtelObservable,
  OtelObservableResult,
  OtelSpan,
  OtelSpanContext,
  OtelSpanOptions,
  OtelTracer,
} from './api';
export { type ObservedCount, observedCounter } from './observed-counter';
export {
  destinationTemplate,
  registeredOpenTelemetry,
  registerOpenTelemetry,
  spanContextOf,
  unregisterOpenTelemetry,
} from './registration';
export {
  type SnapshotInstrumentKind,
  type SnapshotInstruments,
  snapshotInstruments,
} from './snapshot-instruments';
