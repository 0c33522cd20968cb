import type { AnyEnvelope } from './envelope';

// Not exported from the package root: the bus-author layer reads it through `bus-kit`.
let lastEnvelope: AnyEnvelope | undefined;
let lastJson = '';

/** Called by `parseEnvelope` with the envelope it returns and the JSON text it made it from. */
export function rememberEnvelopeJson(envelope: AnyEnvelope, json: string): void {
  lastEnvelope = envelope;
  lastJson = json;
}

/**
 * The JSON text of an envelope `parseEnvelope` just returned, without serializing it again (it
 * serialized it already, to measure it); any other envelope is serialized.
 */
export function envelopeJson(envelope: AnyEnvelope): string {
  return envelope === lastEnvelope ? lastJson : JSON.stringify(envelope);
}
