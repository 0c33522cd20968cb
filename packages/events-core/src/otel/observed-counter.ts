import type { OtelAttributes, OtelInstrumentOptions, OtelMeter } from './api';
import { attributesKey, perMeter } from './per-meter';

/**
 * One running total of an {@link observedCounter}: the hot path adds to `value`, a plain number;
 * the counter reports it at each collection.
 */
export interface ObservedCount {
  /** The total so far. */
  value: number;
}

/** The totals of one observable counter of one meter, by attribute set. */
type Totals = Map<string, { attributes: OtelAttributes; count: ObservedCount }>;

// Every bus or handler that counts into one name of one meter adds to the same totals, as the SDK
// keeps a synchronous counter's storage, and the counter is made once.
const COUNTERS = Symbol.for('@repopulse/events-core.observedCounters');

/**
 * A monotonic counter with no per-event metric cost: an observable counter of `meter` that reports,
 * at each collection, totals the caller keeps by adding to plain numbers. Ask once per attribute
 * set and keep the {@link ObservedCount} (asking is a lookup; adding is an addition). Callers that
 * ask for one name on one meter share its totals, as they would share a synchronous counter's.
 *
 * @param meter - where the counter is made, once per name.
 * @param name - the instrument name.
 * @param options - description and unit (those of the first caller are kept).
 * @returns a function giving the total of an attribute set (bounded sets only: each is kept).
 * @example
 * ```ts
 * const deliveries = observedCounter(meter, 'repopulse.sse.deliveries', { unit: '{event}' })({});
 * deliveries.value += readers;
 * ```
 */
export function observedCounter(
  meter: OtelMeter,
  name: string,
  options: OtelInstrumentOptions,
): (attributes: OtelAttributes) => ObservedCount {
  const known = perMeter(COUNTERS, meter, name, () => {
    const made: Totals = new Map();
    meter.createObservableCounter(name, options).addCallback((result) => {
      for (const { attributes, count } of made.values()) result.observe(count.value, attributes);
    });
    return made;
  });
  return (attributes) => {
    const key = attributesKey(attributes);
    let total = known.get(key);
    if (!total) {
      total = { attributes, count: { value: 0 } };
      known.set(key, total);
    }
    return total.count;
  };
}
