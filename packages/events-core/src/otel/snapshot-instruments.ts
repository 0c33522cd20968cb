import type { OtelAttributes, OtelMeter, OtelObservableResult } from './api';
import { attributesKey, perMeter } from './per-meter';

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

/** Values by attribute set, summed as they are observed. */
class Sums {
  readonly byKey = new Map<string, { value: number; attributes: OtelAttributes }>();
  add(value: number, attributes: OtelAttributes = {}): void {
    const key = attributesKey(attributes);
    const sum = this.byKey.get(key);
    if (sum) sum.value += value;
    else this.byKey.set(key, { value, attributes });
  }
}

/** One instrument a component observes. */
interface Observer<Snapshot> {
  kind: SnapshotInstrumentKind;
  shared: SharedInstrument;
  report(snapshot: Snapshot, result: OtelObservableResult): void;
  reader: Reader;
  /** What it reported at the last collection. */
  last: Sums;
}

/** What `report` observes of `snapshot`, summed by attribute set. */
function reported<Snapshot>(report: Observer<Snapshot>['report'], snapshot: Snapshot): Sums {
  const sums = new Sums();
  report(snapshot, { observe: (value, attributes) => sums.add(value, attributes) });
  return sums;
}

/** Reports one component's values of an instrument. */
type Reader = (result: OtelObservableResult) => Promise<void>;

/** One instrument name on one meter: the readers of the components observing it. */
interface SharedInstrument {
  readers: Set<Reader>;
  /** What components that stopped reported last, for a `total` (a total never goes down). */
  retired: Sums;
  /** Every attribute set a `gauge` reported: one nobody reports any more reads 0, not its last value. */
  seen: Sums;
}

// Per meter and name: the instrument is made once and its one callback sums what every component
// observing it reports.
const SHARED = Symbol.for('@repopulse/events-core.snapshotInstruments');

/** The shared instrument `name` of `meter`, made with its summing callback on first use. */
function sharedInstrument(
  meter: OtelMeter,
  kind: SnapshotInstrumentKind,
  name: string,
  options: { description: string; unit: string },
): SharedInstrument {
  return perMeter(SHARED, meter, name, () => {
    const shared: SharedInstrument = { readers: new Set(), retired: new Sums(), seen: new Sums() };
    const instrument =
      kind === 'gauge'
        ? meter.createObservableUpDownCounter(name, options)
        : meter.createObservableCounter(name, options);
    instrument.addCallback(async (result) => {
      const sums = new Sums();
      for (const { value, attributes } of shared.retired.byKey.values()) sums.add(value, attributes);
      const summing = {
        observe: (value: number, attributes?: OtelAttributes) => sums.add(value, attributes),
      };
      await Promise.all([...shared.readers].map((read) => read(summing)));
      if (kind === 'gauge') {
        // The SDK keeps reporting a series' last value until it is observed again.
        for (const [key, { attributes }] of shared.seen.byKey)
          if (!sums.byKey.has(key)) sums.add(0, attributes);
        for (const { attributes } of sums.byKey.values()) shared.seen.add(0, attributes);
      }
      for (const { value, attributes } of sums.byKey.values()) result.observe(value, attributes);
    });
    return shared;
  });
}

/**
 * Observable OpenTelemetry instruments of `meter` that read a component's state from one
 * `snapshot()` per collection, however many instruments there are: the snapshot (a value, or a
 * promise of one such as a database query) is taken by the first instrument a collection reads and
 * shared by the others of that collection. A snapshot that throws or rejects reports nothing that
 * time. Components that observe one name on one meter (two SSE handlers in one process, say) share
 * one instrument: each collection reports the sum of their values per attribute set, so a gauge
 * counts the streams of every handler, not those of whichever reported last. For the authors of
 * buses, servers and stores, to report their stats as metrics.
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
  const observers: Observer<Snapshot>[] = [];
  return {
    observe(kind, name, description, unit, report) {
      const shared = sharedInstrument(meter, kind, name, { description, unit });
      const observer: Observer<Snapshot> = {
        kind,
        shared,
        report,
        last: new Sums(),
        reader: async (result) => {
          const taken = await read();
          if (taken === undefined) return;
          const last = reported(report, taken);
          for (const { value, attributes } of last.byKey.values()) result.observe(value, attributes);
          observer.last = last;
        },
      };
      shared.readers.add(observer.reader);
      observers.push(observer);
    },
    dispose() {
      // A total keeps counting what a stopped component reported: its final values (its snapshot
      // now, when one is at hand synchronously; else what the last collection saw) stay in the sum.
      let final: Snapshot | undefined;
      if (observers.some(({ kind }) => kind === 'total'))
        try {
          const taken = snapshot();
          if (taken instanceof Promise) taken.catch(() => {});
          else final = taken;
        } catch {}
      for (const { kind, shared, reader, report, last } of observers) {
        shared.readers.delete(reader);
        if (kind !== 'total') continue;
        const values = final === undefined ? last : reported(report, final);
        for (const { value, attributes } of values.byKey.values()) shared.retired.add(value, attributes);
      }
      observers.length = 0;
    },
  };
}
