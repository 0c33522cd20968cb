import type { Topic } from '../bus';
import type { OpenTelemetryApi, OtelAttributes, OtelHistogram, OtelSpan, OtelTracer } from '../otel/api';
import { type ObservedCount, observedCounter } from '../otel/observed-counter';
import { destinationTemplate, registeredOpenTelemetry, spanContextOf } from '../otel/registration';
import type { StreamPosition } from '../wire/position';

/** The instrumentation scope name of the buses' spans and metrics. */
export const BUS_INSTRUMENTATION_SCOPE = '@repopulse/bus';

const SPAN_KIND_PRODUCER = 3;
const STATUS_ERROR = 2;
// Seconds; the semantic conventions' advice for messaging.client.operation.duration.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * One publish under way: its `send` span and the start of its duration. The bus reports the outcome
 * from the promise it already has (no promise or async frame of its own per publish).
 * @internal
 */
export interface PublishTrace {
  /** The store took the event (`duplicate`: it already held it). */
  succeeded(position: StreamPosition, duplicate: boolean): void;
  /** The publish failed with `error`. */
  failed(error: unknown): void;
}

/**
 * What a bus records through OpenTelemetry, made once per bus when `registerOpenTelemetry` of
 * `@repopulse/events-core/otel` ran before it was created.
 * @internal
 */
export interface BusInstruments {
  /** Starts a publish's `send` span; its outcome records the duration, sent and failure metrics. */
  publishing(topic: Topic, event: unknown): PublishTrace;
  /** One reconnection of the bus's store (its live notifications flow again). */
  reconnected(): void;
}

/**
 * The instruments of a bus of `system` (`messaging.system`: `memory`, `redis`, …), or `undefined`
 * without a registered OpenTelemetry API. Tracer, meter and instruments are made here, once per bus.
 * @internal
 */
export function busInstruments(system: string): BusInstruments | undefined {
  const api = registeredOpenTelemetry();
  if (!api) return undefined;
  const meter = api.metrics.getMeter(BUS_INSTRUMENTATION_SCOPE);
  const duration = meter.createHistogram('messaging.client.operation.duration', {
    description: 'Duration of a bus publish, from the call until the store answered.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  // Counted in plain numbers, reported at collection: no SDK work per publish for this one.
  const sent = observedCounter(meter, 'messaging.client.sent.messages', {
    description: 'Events a bus was asked to publish (failed ones carry error.type).',
    unit: '{message}',
  });
  const reconnects = meter.createCounter('repopulse.bus.reconnects', {
    description: 'Reconnections of a bus to its store after live notifications were interrupted.',
    unit: '{reconnect}',
  });
  const publishes = new Publishes(
    system,
    api,
    api.trace.getTracer(BUS_INSTRUMENTATION_SCOPE),
    duration,
    sent,
  );
  const reconnectAttributes = { 'messaging.system': system };
  return {
    publishing: (topic, event) => publishes.start(topic, event),
    reconnected: () => reconnects.add(1, reconnectAttributes),
  };
}

/** The metric attributes of one outcome of a publish, with its `messaging.client.sent.messages`. */
interface Outcome {
  attributes: OtelAttributes;
  sent: ObservedCount;
}

/** What every publish to one destination template shares, made once per template. */
interface Template {
  /** The span name, `send <template>`. */
  spanName: string;
  /** Span and metric attributes of a publish to it. */
  ok: Outcome;
  /** The same with `error.type`, per error type. */
  failed: Map<string, Outcome>;
}

/**
 * A bus's publishes. Per publish: one span (the attributes a template shares are one object, made
 * once; the per-event ones are set only when the span records), the duration and the count; no
 * closure, no context switch, no propagator.
 */
class Publishes {
  // One entry per template (bounded like the templates), reused by every publish.
  private readonly templates = new Map<string, Template>();
  // Publishes come in runs on one topic: its template is looked up once per run.
  private lastTopic: unknown;
  private lastTemplate: Template | undefined;

  constructor(
    private readonly system: string,
    private readonly api: OpenTelemetryApi,
    private readonly tracer: OtelTracer,
    readonly duration: OtelHistogram,
    private readonly sent: (attributes: OtelAttributes) => ObservedCount,
  ) {}

  start(topic: Topic, event: unknown): PublishTrace {
    let template = this.lastTemplate;
    if (topic !== this.lastTopic || !template) {
      template = this.templateOf(typeof topic === 'string' ? destinationTemplate(topic) : 'invalid');
      this.lastTopic = topic;
      this.lastTemplate = template;
    }
    const context = this.api.context.active();
    const span = this.tracer.startSpan(
      template.spanName,
      {
        kind: SPAN_KIND_PRODUCER,
        attributes: template.ok.attributes,
        links: creationLink(event, this.api.trace.getSpanContext(context)?.spanId),
      },
      context,
    );
    const recording = span.isRecording();
    if (recording) {
      span.setAttribute('messaging.destination.name', String(topic));
      const id = (event as { id?: unknown } | null)?.id;
      if (typeof id === 'string') span.setAttribute('messaging.message.id', id);
    }
    return new Publish(this, template, span, recording);
  }

  /** The outcome of a publish with these metric attributes. */
  outcome(attributes: OtelAttributes): Outcome {
    return { attributes, sent: this.sent(attributes) };
  }

  private templateOf(name: string): Template {
    let known = this.templates.get(name);
    if (!known) {
      known = {
        spanName: `send ${name}`,
        ok: this.outcome({
          'messaging.system': this.system,
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.destination.template': name,
        }),
        failed: new Map(),
      };
      this.templates.set(name, known);
    }
    return known;
  }
}

/** One publish under way. */
class Publish implements PublishTrace {
  private readonly started = performance.now();

  constructor(
    private readonly publishes: Publishes,
    private readonly template: Template,
    private readonly span: OtelSpan,
    private readonly recording: boolean,
  ) {}

  succeeded(position: StreamPosition, duplicate: boolean): void {
    if (this.recording) {
      if (duplicate) this.span.setAttribute('repopulse.duplicate', true);
      this.span.setAttribute('repopulse.position', position);
    }
    this.end(this.template.ok);
  }

  failed(error: unknown): void {
    const type = errorType(error);
    let failed = this.template.failed.get(type);
    if (!failed) {
      failed = this.publishes.outcome({ ...this.template.ok.attributes, 'error.type': type });
      this.template.failed.set(type, failed);
    }
    this.span.setAttribute('error.type', type);
    this.span.setStatus({
      code: STATUS_ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
    if (error instanceof Error) this.span.recordException(error);
    this.end(failed);
  }

  private end(outcome: Outcome): void {
    this.publishes.duration.record((performance.now() - this.started) / 1000, outcome.attributes);
    outcome.sent.value++;
    this.span.end();
  }
}

/**
 * A link to the context the event was created in, when it carries one other than the active span
 * (the parent already says it): a relay or a retry publishing it later, elsewhere.
 */
function creationLink(event: unknown, parentSpanId: string | undefined) {
  const traceparent = (event as { traceparent?: unknown } | null)?.traceparent;
  if (typeof traceparent !== 'string') return undefined;
  if (parentSpanId !== undefined && traceparent.startsWith(parentSpanId, 36)) return undefined;
  const context = spanContextOf(traceparent);
  return context ? [{ context }] : undefined;
}

/** `error.type`: a RepoPulse error's code, else the error's class name (bounded either way). */
function errorType(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[a-z_]{1,40}$/.test(code)) return code;
  return error instanceof Error ? error.constructor.name : '_OTHER';
}
