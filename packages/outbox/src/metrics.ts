import { type OtelObservableResult, registeredOpenTelemetry } from '@repopulse/events-core/otel';
import type { OutboxStats } from './outbox';

/** The instrumentation scope name of the outbox's metrics. */
export const OUTBOX_INSTRUMENTATION_SCOPE = '@repopulse/outbox';

/** An outbox's observable metrics; {@link OutboxTelemetry.dispose} stops them. */
export interface OutboxTelemetry {
  /** Stops reporting (on close). */
  dispose(): void;
}

/**
 * Reports `stats()` as metrics at each collection when `registerOpenTelemetry` of
 * `@repopulse/events-core/otel` ran before the outbox was created; else `undefined`. One `stats()`
 * (one backlog query) per collection, however many instruments read it.
 */
export function outboxTelemetry(stats: () => Promise<OutboxStats>): OutboxTelemetry | undefined {
  const api = registeredOpenTelemetry();
  if (!api) return undefined;
  const meter = api.metrics.getMeter(OUTBOX_INSTRUMENTATION_SCOPE);
  let snapshot: Promise<OutboxStats | undefined> | undefined;
  const current = () => {
    if (!snapshot) {
      snapshot = stats().catch(() => undefined);
      setImmediate(() => {
        snapshot = undefined;
      });
    }
    return snapshot;
  };
  const instruments: [
    { removeCallback(cb: (r: OtelObservableResult) => void): void },
    (r: OtelObservableResult) => void,
  ][] = [];
  const observe = (
    kind: 'gauge' | 'total',
    name: string,
    description: string,
    unit: string,
    read: (s: OutboxStats) => number | undefined,
  ) => {
    const options = { description, unit };
    const instrument =
      kind === 'gauge'
        ? meter.createObservableUpDownCounter(name, options)
        : meter.createObservableCounter(name, options);
    const callback = async (result: OtelObservableResult) => {
      const s = await current();
      const value = s && read(s);
      if (value !== undefined) result.observe(value);
    };
    instrument.addCallback(callback);
    instruments.push([instrument, callback]);
  };
  observe(
    'gauge',
    'repopulse.outbox.pending',
    'Committed events not yet delivered (the backlog).',
    '{event}',
    (s) => s.pending,
  );
  observe(
    'gauge',
    'repopulse.outbox.oldest_pending_age',
    'Age of the oldest undelivered event; 0 when nothing is pending.',
    's',
    (s) => (s.oldestPendingAgeMs ?? 0) / 1000,
  );
  observe(
    'gauge',
    'repopulse.outbox.failed',
    'Events the bus refused for good (kept, never relayed).',
    '{event}',
    (s) => s.failed,
  );
  observe(
    'total',
    'repopulse.outbox.delivered',
    "Events this process's relay published.",
    '{event}',
    (s) => s.delivered,
  );
  observe(
    'total',
    'repopulse.outbox.duplicates',
    'Of those, events the bus already held.',
    '{event}',
    (s) => s.duplicates,
  );
  observe(
    'gauge',
    'repopulse.outbox.retrying',
    '1 while the bus is failing and the relay backs off.',
    '1',
    (s) => (s.retrying ? 1 : 0),
  );
  return {
    dispose() {
      for (const [instrument, callback] of instruments) instrument.removeCallback(callback);
      instruments.length = 0;
    },
  };
}
