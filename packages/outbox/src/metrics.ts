import { registeredOpenTelemetry, snapshotInstruments } from '@repopulse/events-core/otel';
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
  const instruments = snapshotInstruments(api.metrics.getMeter(OUTBOX_INSTRUMENTATION_SCOPE), stats);
  const { observe } = instruments;
  observe(
    'gauge',
    'repopulse.outbox.pending',
    'Committed events not yet delivered (the backlog).',
    '{event}',
    (s, r) => r.observe(s.pending),
  );
  observe(
    'gauge',
    'repopulse.outbox.oldest_pending_age',
    'Age of the oldest undelivered event; 0 when nothing is pending.',
    's',
    (s, r) => r.observe((s.oldestPendingAgeMs ?? 0) / 1000),
  );
  observe(
    'gauge',
    'repopulse.outbox.failed',
    'Events the bus refused for good (kept, never relayed).',
    '{event}',
    (s, r) => r.observe(s.failed),
  );
  observe(
    'total',
    'repopulse.outbox.delivered',
    "Events this process's relay published.",
    '{event}',
    (s, r) => r.observe(s.delivered),
  );
  observe(
    'total',
    'repopulse.outbox.duplicates',
    'Of those, events the bus already held.',
    '{event}',
    (s, r) => r.observe(s.duplicates),
  );
  observe(
    'gauge',
    'repopulse.outbox.retrying',
    '1 while the bus is failing and the relay backs off.',
    '1',
    (s, r) => r.observe(s.retrying ? 1 : 0),
  );
  return instruments;
}
