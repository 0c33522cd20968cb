import { type AnyEnvelope, parseEnvelopeJson } from '../envelope';
import { envelopeSize } from '../envelope-size';
import { EventValidationError } from '../errors';
import { isKnownEventType } from '../registry';
import { sealEnvelope, sealedEnvelopeJson } from '../sealed-envelope';

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

/**
 * The envelope of `json`, a text {@link validatedEnvelopeJson} returned and that was stored unchanged
 * (an outbox row), sealed like a `createEvent` envelope: a bus publishes it with only its size
 * checked and stores that same text, instead of validating it a second time (a payload schema that
 * transforms its input would otherwise run on its own output). The type must still be known in this
 * process, as `publish` requires. For text from anywhere else use `parseEnvelope`. Throws
 * `EventValidationError`: `invalid_envelope` (not a JSON object), `unknown_type`.
 *
 * @example
 * ```ts
 * const { json } = validatedEnvelopeJson(event, 65_536); // at write time, stored as it is
 * await bus.publish(topic, validatedEnvelopeFromJson(json)); // later, from the stored text
 * ```
 */
export function validatedEnvelopeFromJson(json: string): AnyEnvelope {
  let envelope: unknown;
  try {
    envelope = JSON.parse(json);
  } catch (cause) {
    throw new EventValidationError('invalid_envelope', 'the stored envelope is not JSON', 'envelope', {
      cause,
    });
  }
  if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
    throw new EventValidationError('invalid_envelope', 'envelope must be a JSON object', 'envelope');
  }
  const { type } = envelope as { type?: unknown };
  if (!isKnownEventType(type)) {
    throw new EventValidationError(
      'unknown_type',
      `type "${String(type)}" is not in the catalog nor registered`,
      'type',
    );
  }
  sealEnvelope(envelope as AnyEnvelope, json);
  return envelope as AnyEnvelope;
}
