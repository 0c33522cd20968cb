import type { AnyEnvelope } from './envelope';

/** A constructor that hands back the object it is given, so a subclass can add fields to it. */
class Adopt {
  constructor(target: object) {
    // biome-ignore lint/correctness/noConstructorReturn: the point: `Seal` stamps `target` itself
    return target;
  }
}

/**
 * Stamps an envelope with the JSON text validation produced for it, in a private field on the
 * envelope itself: only this class can add or read it. Unlike a property it cannot be seen,
 * copied (spread, `structuredClone`) or forged, and unlike a `WeakMap` it costs the garbage
 * collector nothing extra; a proxy of an envelope does not carry it.
 */
class Seal extends Adopt {
  readonly #json: string;

  private constructor(envelope: object, json: string) {
    super(envelope);
    this.#json = json;
  }

  static stamp(envelope: object, json: string): void {
    new Seal(envelope, json);
  }

  static read(value: object): string | undefined {
    return #json in value ? (value as Seal).#json : undefined;
  }
}

/**
 * Deep-freezes `envelope` — a fresh copy `parseEnvelope` made of plain JSON data (objects, arrays,
 * strings, numbers, booleans, `null`) that nothing else references — and records `json`, the
 * text validation produced for it. Frozen, it can never differ from that text, so a bus can store
 * the text without validating the envelope again.
 */
export function sealEnvelope(envelope: AnyEnvelope, json: string): void {
  Seal.stamp(envelope, json);
  // Every field but the payload is a string or a number.
  Object.freeze(envelope);
  deepFreeze(envelope.payload);
}

/**
 * The JSON text validation produced for `value` when `value` is an envelope {@link sealEnvelope}
 * sealed (by this copy of events-core); `undefined` for anything else: a hand-made envelope, a
 * copy or spread of a sealed one, a proxy.
 */
export function sealedEnvelopeJson(value: unknown): string | undefined {
  return typeof value === 'object' && value !== null ? Seal.read(value) : undefined;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (const item of value) if (typeof item === 'object') deepFreeze(item);
    return;
  }
  // `for…in` walks the object's own keys without making an array of them; the copy's prototype
  // is `Object.prototype` or `null`, and only its own members are frozen.
  const members = value as Record<string, unknown>;
  for (const key in members) {
    const member = members[key];
    if (typeof member === 'object' && Object.hasOwn(members, key)) deepFreeze(member);
  }
}
