import { createEvent, parseEnvelope } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { envelopeJson } from '../../src/envelope-json';

describe('envelopeJson', () => {
  it('is the JSON text of the envelope parseEnvelope just returned, and of any other envelope', () => {
    const event = createEvent('log.append', { level: 'info', message: 'ü → 💡' }, { repo_id: 7 });
    const stored = parseEnvelope({ ...event, extra: 'dropped' });
    expect(envelopeJson(stored)).toBe(JSON.stringify(stored));
    expect(JSON.parse(envelopeJson(stored))).toEqual(stored);
    const other = parseEnvelope(createEvent('log.append', { level: 'warn', message: 'later' }));
    expect(envelopeJson(stored)).toBe(JSON.stringify(stored)); // no longer the last one: serialized
    expect(envelopeJson(other)).toContain('"later"');
  });
});
