import type { OtelMeter, OtelObservable, OtelObservableResult } from './api';

/** How an observable instrument of {@link snapshotInstruments} reads: `gauge` goes up and down, `total` only up. */
export type SnapshotInstrumentKind = 'gauge' | 'total';

/** Observable instruments that all read one snapshot per collection; see {@link snapshotInstruments}. */
export interface SnapshotInstruments<Snapshot> {
  /**
   * Adds an observable instrument `name` (an up-down counter for a `gauge`, a counter for a
   * `total`): at each collection `read` reports its values from the snapshot through `result`
   * (several series with attributes if it likes). Nothing is reported when the snapshot failed.
   */
  observe(
    kind: SnapshotInstrumentKind,
    name: string,
    description: string,
    unit: string,
    read: (snapshot: Snapshot, result: OtelObservableResult) => void,
  ): void;
  /** Stops every instrument added here from reporting (when the bus, server or outbox closes). */
  dispose(): void;
}

/**
 * Observable OpenTelemetry instruments of `meter` that read a component's state from one
 * `snapshot()` per collection, however many instruments there are: the snapshot (a value, or a
 * promise of one such as a database query) is taken by the first instrument a collection reads and
 * shared by the others of that collection. A snapshot that throws or rejects reports nothing that
 * time. For the authors of buses, servers and stores, to report their stats as metrics.
 *
 * @example
 * ```ts
 * const api = registeredOpenTelemetry();
 * if (api) {
 *   const instruments = snapshotInstruments(api.metrics.getMeter('@my/bus'), () => bus.stats());
 *   instruments.observe('gauge', 'my.bus.subscribers', 'Live subscribers.', '{subscriber}', (s, r) =>
 *     r.observe(s.subscribers),
 *   );
 *   // on close
 *   instruments.dispose();
 * }
 * ```
 */
export function snapshotInstruments<Snapshot>(
  meter: OtelMeter,
  snapshot: () => Snapshot | Promise<Snapshot>,
): SnapshotInstruments<Snapshot> {
  let current: Promise<Snapshot | undefined> | undefined;
  // The callbacks of one collection start within one macrotask: the snapshot lives until it ends.
  const read = () => {
    if (!current) {
      current = (async () => snapshot())().catch(() => undefined);
      setTimeout(() => {
        current = undefined;
      });
    }
    return current;
  };
  const observers: [OtelObservable, (result: OtelObservableResult) => Promise<void>][] = [];
  return {
    observe(kind, name, description, unit, report) {
      const options = { description, unit };
      const instrument =
        kind === 'gauge'
          ? meter.createObservableUpDownCounter(name, options)
          : meter.createObservableCounter(name, options);
      const callback = async (result: OtelObservableResult) => {
        const taken = await read();
        if (taken !== undefined) report(taken, result);
      };
      instrument.addCallback(callback);
      observers.push([instrument, callback]);
    },
    dispose() {
      for (const [instrument, callback] of observers) instrument.removeCallback(callback);
      observers.length = 0;
    },
  };
}
