import type { OtelAttributes, OtelMeter } from './api';

/** A key for an attribute set that does not depend on the order its keys were written in. */
export function attributesKey(attributes: OtelAttributes): string {
  return JSON.stringify(Object.entries(attributes).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * The state kept for instrument `name` of `meter` under `registry`, made by `make` on first use:
 * every component of the process observing that name shares it, as the SDK shares an instrument's
 * storage. On `globalThis` (under a `Symbol.for` key), so every copy of this package (ESM and CJS)
 * shares it too.
 */
export function perMeter<State>(registry: symbol, meter: OtelMeter, name: string, make: () => State): State {
  const slots = globalThis as { [key: symbol]: WeakMap<OtelMeter, Map<string, unknown>> | undefined };
  let byMeter = slots[registry];
  if (!byMeter) {
    byMeter = new WeakMap();
    slots[registry] = byMeter;
  }
  let byName = byMeter.get(meter);
  if (!byName) {
    byName = new Map();
    byMeter.set(meter, byName);
  }
  if (!byName.has(name)) byName.set(name, make());
  return byName.get(name) as State;
}
