import type { ResetReason } from '@repopulse/events-core';
import {
  destinationTemplate,
  type ObservedCount,
  type OtelAttributes,
  observedCounter,
  registeredOpenTelemetry,
  snapshotInstruments,
} from '@repopulse/events-core/otel';
import type { EventStreamStats } from './stats';

/** The instrumentation scope name of the SSE handler's metrics and spans. */
export const SSE_INSTRUMENTATION_SCOPE = '@repopulse/sse-server';

const SPAN_KIND_CLIENT = 2;
const STATUS_ERROR = 2;
// Seconds: from a few milliseconds (same process) to the scale of a Redis reconnection.
const LAG_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const CLOSE_REASONS = [
  ['backpressure', 'closedForBackpressure'],
  ['write_timeout', 'closedForWriteTimeout'],
  ['token_expired', 'closedForTokenExpiry'],
  ['client', 'closedByClient'],
  ['shutdown', 'closedForShutdown'],
  ['max_duration', 'closedForMaxDuration'],
] as const;

/** What a topic hub reports to the handler's metrics and spans. */
export interface HubTelemetry {
  /** A live event reached the hub (recorded as publish → hand-off lag). */
  received(topic: string, ts: number, now: number): void;
  /** `events` live frames of `bytes` bytes went to `readers` readers in one write each. */
  delivered(events: number, bytes: number, readers: number): void;
  /** A reset frame went to `readers` readers. */
  reset(reason: ResetReason, readers: number): void;
  /** A catch-up read started; call the result when it ends. */
  catchUpStarted(topic: string, from: string, readers: number): (error?: unknown) => void;
}

/** A handler's observable OpenTelemetry instruments. */
export interface HandlerTelemetry {
  /** Stops reporting the handler's observable metrics (on close). */
  dispose(): void;
}

/**
 * The handler's observable instruments when `registerOpenTelemetry` of
 * `@repopulse/events-core/otel` ran, else `undefined`. Gauges and totals are read from one
 * `stats()` per collection.
 */
export function handlerTelemetry(stats: () => EventStreamStats): HandlerTelemetry | undefined {
  const api = registeredOpenTelemetry();
  if (!api) return undefined;
  const instruments = snapshotInstruments(api.metrics.getMeter(SSE_INSTRUMENTATION_SCOPE), stats);
  const { observe } = instruments;
  observe('gauge', 'repopulse.sse.streams', 'Open SSE streams.', '{stream}', (s, r) => r.observe(s.streams));
  observe('gauge', 'repopulse.sse.long_polls', 'Long-polls waiting for events.', '{request}', (s, r) =>
    r.observe(s.longPolls),
  );
  observe('gauge', 'repopulse.sse.topics', 'Topics with a stream or long-poll.', '{topic}', (s, r) =>
    r.observe(s.topics),
  );
  observe('gauge', 'repopulse.sse.buffered', 'Bytes accepted for open streams, not yet sent.', 'By', (s, r) =>
    r.observe(s.bufferedBytes),
  );
  observe('total', 'repopulse.sse.streams.opened', 'SSE streams opened.', '{stream}', (s, r) =>
    r.observe(s.totalStreams),
  );
  observe('total', 'repopulse.sse.streams.closed', 'SSE streams closed, by reason.', '{stream}', (s, r) => {
    for (const [reason, key] of CLOSE_REASONS) r.observe(s[key], { 'repopulse.close.reason': reason });
  });
  observe(
    'total',
    'repopulse.sse.evictions',
    'Slow streams closed by the server, by reason.',
    '{stream}',
    (s, r) => {
      r.observe(s.closedForBackpressure, { 'repopulse.close.reason': 'backpressure' });
      r.observe(s.closedForWriteTimeout, { 'repopulse.close.reason': 'write_timeout' });
    },
  );
  observe(
    'total',
    'repopulse.sse.long_polls.completed',
    'Long-polls answered or timed out.',
    '{request}',
    (s, r) => r.observe(s.totalLongPolls),
  );
  observe(
    'total',
    'repopulse.sse.rejected',
    'Requests refused before the stream opened.',
    '{request}',
    (s, r) => r.observe(s.rejected),
  );
  observe('total', 'repopulse.sse.drained', 'SSE requests ended cleanly by close().', '{stream}', (s, r) =>
    r.observe(s.drained),
  );
  observe(
    'total',
    'repopulse.sse.catch_up.reads',
    'Bus catch-up reads for resuming readers.',
    '{read}',
    (s, r) => r.observe(s.catchUpReads),
  );

  return instruments;
}

/**
 * The hooks of the hubs of one bus when OpenTelemetry is registered, else `undefined` (and
 * nothing is recorded): deliveries, bytes, lag and resets are counted as they happen, once per
 * topic and tick, never per connection; catch-up reads are spans.
 */
export function hubTelemetry(): HubTelemetry | undefined {
  const api = registeredOpenTelemetry();
  if (!api) return undefined;
  const meter = api.metrics.getMeter(SSE_INSTRUMENTATION_SCOPE);
  const tracer = api.trace.getTracer(SSE_INSTRUMENTATION_SCOPE);
  // Totals are plain numbers, reported at collection (no SDK work per event); the lag is a
  // histogram, recorded once per event and topic with the attributes of its template, made once.
  const deliveries = observedCounter(meter, 'repopulse.sse.deliveries', {
    description: 'Live events handed to streams and long-polls (one per event per reader).',
    unit: '{event}',
  })({});
  const bytes = observedCounter(meter, 'repopulse.sse.written', {
    description: 'Bytes of live frames handed to streams and long-polls.',
    unit: 'By',
  })({});
  const resets = observedCounter(meter, 'repopulse.sse.resets', {
    description: 'Reset frames sent to readers, by reason.',
    unit: '{reset}',
  });
  const resetsBy = new Map<ResetReason, ObservedCount>();
  const lag = meter.createHistogram('repopulse.sse.delivery.lag', {
    description: "From an event's creation (its ts) to its hand-off to the sockets, once per topic.",
    unit: 's',
    advice: { explicitBucketBoundaries: LAG_BUCKETS },
  });
  const lagAttributes = new Map<string, OtelAttributes>();
  let lastTopic: string | undefined;
  let lastAttributes: OtelAttributes = {};

  return {
    received(topic, ts, now) {
      if (topic !== lastTopic) {
        const template = destinationTemplate(topic);
        let attributes = lagAttributes.get(template);
        if (!attributes) {
          attributes = { 'messaging.destination.template': template };
          lagAttributes.set(template, attributes);
        }
        lastTopic = topic;
        lastAttributes = attributes;
      }
      lag.record(Math.max(0, now - ts) / 1000, lastAttributes);
    },
    delivered(events, size, readers) {
      deliveries.value += events * readers;
      bytes.value += size * readers;
    },
    reset(reason, readers) {
      if (readers === 0) return;
      let count = resetsBy.get(reason);
      if (!count) {
        count = resets({ 'repopulse.reset.reason': reason });
        resetsBy.set(reason, count);
      }
      count.value += readers;
    },
    catchUpStarted(topic, from, readers) {
      const template = destinationTemplate(topic);
      const attributes: OtelAttributes = {
        'messaging.system': 'repopulse',
        'messaging.operation.type': 'receive',
        'messaging.operation.name': 'catch_up',
        'messaging.destination.template': template,
        'messaging.destination.name': topic,
        'repopulse.catch_up.from': from,
        'repopulse.catch_up.readers': readers,
      };
      const span = tracer.startSpan(`catch_up ${template}`, { kind: SPAN_KIND_CLIENT, attributes });
      let ended = false;
      return (error) => {
        if (ended) return;
        ended = true;
        if (error !== undefined) {
          span.setStatus({
            code: STATUS_ERROR,
            message: error instanceof Error ? error.message : String(error),
          });
          span.setAttribute('error.type', error instanceof Error ? error.constructor.name : '_OTHER');
        }
        span.end();
      };
    },
  };
}
