import type { AnyEnvelope } from '../../src/envelope';
import { parseEnvelopeJson } from '../../src/envelope';

/** The JSON text the bus layer stores for `envelope`. */
export const envelopeJson = (envelope: AnyEnvelope): string => parseEnvelopeJson(envelope).json;
