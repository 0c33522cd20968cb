/**
 * The part of `@opentelemetry/api` (1.x) RepoPulse uses, described structurally so that no
 * package of ours imports it: `import * as api from '@opentelemetry/api'` satisfies it.
 */

/** Attribute values RepoPulse sets on spans and metric points. */
export type OtelAttributes = Record<string, string | number | boolean>;

/** A span context as `@opentelemetry/api`'s `SpanContext`. */
export interface OtelSpanContext {
  /** 32 lowercase hex digits. */
  traceId: string;
  /** 16 lowercase hex digits. */
  spanId: string;
  /** W3C trace flags (bit 0: sampled). */
  traceFlags: number;
  /** Whether the context came from another process. */
  isRemote?: boolean;
  /** The W3C trace state. */
  traceState?: { serialize(): string };
}

/** A span as `@opentelemetry/api`'s `Span`. */
export interface OtelSpan {
  /** The span's own context. */
  spanContext(): OtelSpanContext;
  /** Whether the span records anything (false when it was not sampled, or without an SDK). */
  isRecording(): boolean;
  /** Sets one attribute. */
  setAttribute(key: string, value: string | number | boolean): unknown;
  /** Sets the status: code 2 is `ERROR`. */
  setStatus(status: { code: number; message?: string }): unknown;
  /** Records an exception event. */
  recordException(exception: Error | string): void;
  /** Ends the span. */
  end(): void;
}

/** Options of {@link OtelTracer.startSpan}. */
export interface OtelSpanOptions {
  /** Span kind: 1 SERVER, 2 CLIENT, 3 PRODUCER, 4 CONSUMER. */
  kind?: number;
  /** Attributes at start (samplers see them). */
  attributes?: OtelAttributes;
  /** Links to other span contexts (trace state is not carried on links). */
  links?: { context: Omit<OtelSpanContext, 'traceState'>; attributes?: OtelAttributes }[];
}

/** A tracer as `@opentelemetry/api`'s `Tracer`. */
export interface OtelTracer {
  /** Starts a span, a child of the span in `context` (the active context by default). */
  startSpan(name: string, options?: OtelSpanOptions, context?: unknown): OtelSpan;
}

/** Options of a metric instrument. */
export interface OtelInstrumentOptions {
  /** What the instrument measures. */
  description?: string;
  /** UCUM unit (`s`, `By`, `{message}`). */
  unit?: string;
  /** Hints for the SDK, e.g. histogram bucket boundaries. */
  advice?: { explicitBucketBoundaries?: number[] };
}

/** A counter or up-down counter. */
export interface OtelCounter {
  /** Adds `value` to the series of `attributes`. */
  add(value: number, attributes?: OtelAttributes): void;
}

/** A histogram. */
export interface OtelHistogram {
  /** Records one measurement. */
  record(value: number, attributes?: OtelAttributes): void;
}

/** What an observable instrument's callback reports to. */
export interface OtelObservableResult {
  /** Reports the current value of the series of `attributes`. */
  observe(value: number, attributes?: OtelAttributes): void;
}

/** An observable (asynchronous) instrument. */
export interface OtelObservable {
  /** Adds a callback run at each collection. */
  addCallback(callback: (result: OtelObservableResult) => void): void;
  /** Removes a callback added with {@link OtelObservable.addCallback}. */
  removeCallback(callback: (result: OtelObservableResult) => void): void;
}

/** A meter as `@opentelemetry/api`'s `Meter`. */
export interface OtelMeter {
  /** A monotonic counter. */
  createCounter(name: string, options?: OtelInstrumentOptions): OtelCounter;
  /** A counter that goes up and down. */
  createUpDownCounter(name: string, options?: OtelInstrumentOptions): OtelCounter;
  /** A histogram. */
  createHistogram(name: string, options?: OtelInstrumentOptions): OtelHistogram;
  /** An up-down counter read at collection time. */
  createObservableUpDownCounter(name: string, options?: OtelInstrumentOptions): OtelObservable;
  /** A monotonic counter read at collection time. */
  createObservableCounter(name: string, options?: OtelInstrumentOptions): OtelObservable;
}

/**
 * The OpenTelemetry API as {@link registerOpenTelemetry} takes it: the namespace of
 * `@opentelemetry/api` 1.x.
 *
 * @example
 * ```ts
 * import * as api from '@opentelemetry/api';
 * const otel: OpenTelemetryApi = api;
 * ```
 */
export interface OpenTelemetryApi {
  /** `api.context`. */
  context: { active(): unknown };
  /** `api.trace`. */
  trace: {
    getTracer(name: string, version?: string): OtelTracer;
    getSpanContext(context: unknown): OtelSpanContext | undefined;
  };
  /** `api.metrics`. */
  metrics: { getMeter(name: string, version?: string): OtelMeter };
}
