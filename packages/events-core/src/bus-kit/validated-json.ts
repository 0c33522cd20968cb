import { type AnyEnvelope, parseEnvelopeJson } from '../envelope';
import { envelopeSize } from '../envelope-size';
import { sealedEnvelopeJson } from '../sealed-envelope';

/**
 * Validates `event` as an envelope of at most `maxBytes` of UTF-8 JSON and returns it with its
 * JSON text, for a package that stores the text (a bus, an outbox). An envelope `createEvent` made
 * is frozen and was validated when it was made: it is returned as it is, with the text that
 * validation produced, and only its size is checked. Anything else (hand-made, a copy or spread of
 * an envelope) is validated and copied like `parseEnvelope` does. Throws `EventValidationError`.
 *
 * @example
 * ```ts
 * const { envelope, json } = validatedEnvelopeJson(event, 65_536);
 * await store.write(topic, envelope.id, json);
 * ```
 */
export function validatedEnvelopeJson(
  event: unknown,
  maxBytes: number,
): { envelope: AnyEnvelope; json: string } {
  const json = sealedEnvelopeJson(event);
  if (json !== undefined && envelopeSize(json, maxBytes) <= maxBytes) {
    return { envelope: event as AnyEnvelope, json };
  }
  return parseEnvelopeJson(event, { maxBytes });
}
