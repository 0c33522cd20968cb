import type { EventBus, PublishResult, Topic } from '../bus';
import type { EventType } from '../catalog';
import type { Envelope } from '../envelope';
import type { OpenTelemetryApi, OtelAttributes, OtelHistogram, OtelSpan, OtelTracer } from '../otel/api';
import { destinationTemplate, registeredOpenTelemetry, spanContextOf } from '../otel/registration';

/** The instrumentation scope name of the buses' spans and metrics. */
export const BUS_INSTRUMENTATION_SCOPE = '@repopulse/bus';

const SPAN_KIND_PRODUCER = 3;
const STATUS_ERROR = 2;
// Seconds; the semantic conventions' advice for messaging.client.operation.duration.
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * What a bus records through OpenTelemetry, made once per bus when `registerOpenTelemetry` of
 * `@repopulse/events-core/otel` ran before it was created.
 * @internal
 */
export interface BusInstruments {
  /** Wraps `bus.publish` in a `send` span and its duration, sent and failure metrics. */
  wrap(bus: EventBus): EventBus;
  /** One reconnection of the bus's store (its live notifications flow again). */
  reconnected(): void;
}

/**
 * The instruments of a bus of `system` (`messaging.system`: `memory`, `redis`, …), or `undefined`
 * without a registered OpenTelemetry API.
 * @internal
 */
export function busInstruments(system: string): BusInstruments | undefined {
  const api = registeredOpenTelemetry();
  if (!api) return undefined;
  const tracer = api.trace.getTracer(BUS_INSTRUMENTATION_SCOPE);
  const meter = api.metrics.getMeter(BUS_INSTRUMENTATION_SCOPE);
  const duration = meter.createHistogram('messaging.client.operation.duration', {
    description: 'Duration of a bus publish, from the call until the store answered.',
    unit: 's',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS },
  });
  // Counted here and reported at collection: no SDK work per publish for this one.
  const sent = new Map<OtelAttributes, number>();
  meter
    .createObservableCounter('messaging.client.sent.messages', {
      description: 'Events a bus was asked to publish (failed ones carry error.type).',
      unit: '{message}',
    })
    .addCallback((result) => {
      for (const [attributes, count] of sent) result.observe(count, attributes);
    });
  const reconnects = meter.createCounter('repopulse.bus.reconnects', {
    description: 'Reconnections of a bus to its store after live notifications were interrupted.',
    unit: '{reconnect}',
  });
  return {
    wrap: (bus) => wrapPublish(bus, system, api, tracer, duration, sent),
    reconnected: () => reconnects.add(1, { 'messaging.system': system }),
  };
}

/** What every publish to one destination template shares, made once per template. */
interface Template {
  /** The span name, `send <template>`. */
  spanName: string;
  /** Span and metric attributes of a publish to it. */
  ok: OtelAttributes;
  /** The same with `error.type`, per error type. */
  failed: Map<string, OtelAttributes>;
}

/**
 * Wraps `bus.publish`. Per publish it starts one span (the attributes shared by a template are one
 * object, made once), adds the per-event attributes only when the span records, records the duration
 * and counts the message; no closure runs in a context of its own and no propagator is involved.
 */
function wrapPublish(
  bus: EventBus,
  system: string,
  api: OpenTelemetryApi,
  tracer: OtelTracer,
  duration: OtelHistogram,
  sent: Map<OtelAttributes, number>,
): EventBus {
  const publish = bus.publish.bind(bus);
  // One entry per template (bounded like the templates), reused by every publish.
  const templates = new Map<string, Template>();
  const templateOf = (name: string): Template => {
    let known = templates.get(name);
    if (!known) {
      known = {
        spanName: `send ${name}`,
        ok: {
          'messaging.system': system,
          'messaging.operation.name': 'send',
          'messaging.operation.type': 'send',
          'messaging.destination.template': name,
        },
        failed: new Map(),
      };
      templates.set(name, known);
    }
    return known;
  };
  // Publishes come in runs on one topic: its template is looked up once per run.
  let lastTopic: unknown;
  let lastTemplate: Template | undefined;
  const finish = (span: OtelSpan, started: number, attributes: OtelAttributes) => {
    duration.record((performance.now() - started) / 1000, attributes);
    sent.set(attributes, (sent.get(attributes) ?? 0) + 1);
    span.end();
  };

  bus.publish = function tracedPublish<K extends EventType>(
    topic: Topic,
    event: Envelope<K>,
  ): Promise<PublishResult<Envelope<K>>> {
    let template = lastTemplate;
    if (topic !== lastTopic || !template) {
      template = templateOf(typeof topic === 'string' ? destinationTemplate(topic) : 'invalid');
      lastTopic = topic;
      lastTemplate = template;
    }
    const context = api.context.active();
    const span = tracer.startSpan(
      template.spanName,
      {
        kind: SPAN_KIND_PRODUCER,
        attributes: template.ok,
        links: creationLink(event, api.trace.getSpanContext(context)?.spanId),
      },
      context,
    );
    const recording = span.isRecording();
    if (recording) {
      span.setAttribute('messaging.destination.name', String(topic));
      const id = (event as { id?: unknown } | null)?.id;
      if (typeof id === 'string') span.setAttribute('messaging.message.id', id);
    }
    const started = performance.now();
    const known = template;
    return publish(topic, event).then(
      (result) => {
        if (recording) {
          if (result.duplicate) span.setAttribute('repopulse.duplicate', true);
          span.setAttribute('repopulse.position', result.position);
        }
        finish(span, started, known.ok);
        return result;
      },
      (error: unknown) => {
        const type = errorType(error);
        let failed = known.failed.get(type);
        if (!failed) {
          failed = { ...known.ok, 'error.type': type };
          known.failed.set(type, failed);
        }
        span.setAttribute('error.type', type);
        span.setStatus({
          code: STATUS_ERROR,
          message: error instanceof Error ? error.message : String(error),
        });
        if (error instanceof Error) span.recordException(error);
        finish(span, started, failed);
        throw error;
      },
    );
  };
  return bus;
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
