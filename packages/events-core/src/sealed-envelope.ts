import type { AnyEnvelope } from './envelope';

// Not exported from the package root: `createEvent` seals, the bus-author layer reads.
const sealed = new WeakMap<object, string>();

/**
 * Deep-freezes `envelope` — a fresh copy `parseEnvelope` made of plain JSON data (objects, arrays,
 * strings, numbers, booleans, `null`) that nothing else references — and records `json`, the
 * text validation produced for it. Frozen, it can never differ from that text, so a bus can store
 * the text without validating the envelope again.
 */
export function sealEnvelope(envelope: AnyEnvelope, json: string): void {
  // Every field but the payload is a string or a number.
  Object.freeze(envelope);
  deepFreeze(envelope.payload);
  sealed.set(envelope, json);
}

/**
 * The JSON text validation produced for `value` when `value` is an envelope {@link sealEnvelope}
 * sealed (by this copy of events-core); `undefined` for anything else: a hand-made envelope, a
 * copy or spread of a sealed one, a proxy.
 */
export function sealedEnvelopeJson(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? sealed.get(value) : undefined;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object') deepFreeze(item);
    return;
  }
  for (const member of Object.values(value)) if (typeof member === 'object') deepFreeze(member);
}
