import { createEvent, parseEnvelope } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { parseEnvelopeJson } from '../../src/envelope';

describe('parseEnvelopeJson', () => {
  it('returns what parseEnvelope returns with its JSON text, made once per call and never shared', () => {
    const event = createEvent('log.append', { level: 'info', message: 'ü → 💡' }, { repo_id: 7 });
    const input = { ...event, extra: 'dropped' };
    const { envelope, json } = parseEnvelopeJson(input);
    expect(envelope).toStrictEqual(parseEnvelope(input));
    expect(json).toBe(JSON.stringify(envelope));
    const other = parseEnvelopeJson(createEvent('log.append', { level: 'warn', message: 'later' }));
    expect(other.json).toContain('"later"');
    expect(json).not.toContain('"later"');
  });
});
