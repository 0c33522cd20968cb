import { parseEnvelope } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { copyJsonData, NOT_PLAIN } from '../src/json-copy';
import { envelopeJson } from './helpers/envelope-json';

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value));
const deep = (levels: number) => {
  let value: unknown = 'leaf';
  for (let i = 0; i < levels; i++) value = { next: value };
  return value;
};

describe('copyJsonData', () => {
  it.each([
    ['flat', { a: 'x', b: 1.5, c: true, d: null }],
    ['nested', { a: { b: [1, 'two', { c: [null, false] }] }, e: [] }],
    ['undefined members left out', { a: undefined, b: 1 }],
    ['a null-prototype object', Object.assign(Object.create(null), { z: 1, a: 2 })],
    ['integer-like keys in JSON order', { b: 1, 2: 'two', a: 3, 1: 'one' }],
    ['unicode', { text: 'ü → 💡 \u2028', '🔑': 'k' }],
    ['64 levels', deep(64)],
  ])('%s: a copy equal to the JSON round trip, sharing nothing', (_name, value) => {
    const copy = copyJsonData(value);
    expect(copy).not.toBe(NOT_PLAIN);
    expect(copy).toStrictEqual(roundTrip(value));
    expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
    expect(copy).not.toBe(value);
  });

  it.each([
    ['toJSON', { toJSON: () => 'x' }],
    ['a Date', { at: new Date(0) }],
    ['a class instance', { m: new Map() }],
    ['-0', { n: -0 }],
    ['NaN', { n: Number.NaN }],
    ['Infinity', { n: Number.POSITIVE_INFINITY }],
    ['a bigint', { n: 1n }],
    ['a function member', { f: () => 1 }],
    ['undefined in an array', { a: [1, undefined] }],
    // biome-ignore lint/suspicious/noSparseArray: the hole is the case under test
    ['a hole in an array', { a: [1, , 3] }],
    ['an own __proto__ key', JSON.parse('{"__proto__": {"polluted": true}}')],
    ['a boxed string', { s: new String('x') }],
    ['an array subclass', { a: new (class extends Array {})() }],
    ['65 levels', deep(65)],
  ])('%s: left to the JSON round trip', (_name, value) => {
    expect(copyJsonData(value)).toBe(NOT_PLAIN);
  });

  it('stops at a cycle instead of recursing forever', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    expect(copyJsonData(cyclic)).toBe(NOT_PLAIN);
  });
});

describe('parseEnvelope payload copies', () => {
  const envelope = (payload: unknown) => ({
    id: '01J0000000000000000000000A',
    type: 'log.append',
    ts: 1,
    payload,
  });

  it.each([
    ['plain', { level: 'info', message: 'm', extra: { list: [1, 2] } }],
    [
      'a Date and -0 (JSON round trip)',
      { level: 'info', message: 'm', at: new Date(0), n: -0, x: Number.NaN },
    ],
    ['toJSON on a nested member', { level: 'info', message: 'm', v: { toJSON: () => ({ w: 1 }) } }],
    ['an own __proto__ key', JSON.parse('{"level":"info","message":"m","__proto__":{"p":1}}')],
  ])('%s: the envelope is what its JSON text parses to', (_name, payload) => {
    const stored = parseEnvelope(envelope(payload));
    const json = envelopeJson(stored);
    expect(stored).toStrictEqual(JSON.parse(json));
    expect(Object.getPrototypeOf(stored.payload)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).p).toBeUndefined();
  });

  it('turns a ts of -0 into 0, as its JSON text has it', () => {
    const stored = parseEnvelope({ ...envelope({ level: 'info', message: 'm' }), ts: -0 });
    expect(Object.is(stored.ts, 0)).toBe(true);
    expect(stored).toStrictEqual(JSON.parse(envelopeJson(stored)));
  });

  it('refuses a cyclic or bigint payload with invalid_payload and changes nothing', () => {
    const cyclic: Record<string, unknown> = { level: 'info', message: 'm' };
    cyclic.self = cyclic;
    for (const payload of [cyclic, { level: 'info', message: 'm', n: 1n }]) {
      expect(() => parseEnvelope(envelope(payload))).toThrow(
        expect.objectContaining({ code: 'invalid_payload', field: 'payload' }),
      );
    }
    expect(cyclic.self).toBe(cyclic);
  });

  it('counts UTF-8 bytes of a long text against maxBytes exactly', () => {
    const base = JSON.stringify(envelope({ level: 'info', message: '' })).length;
    const fits = envelope({ level: 'info', message: '€'.repeat(100) }); // 3 bytes each
    expect(() => parseEnvelope(fits, { maxBytes: base + 300 })).not.toThrow();
    expect(() => parseEnvelope(fits, { maxBytes: base + 299 })).toThrow(
      expect.objectContaining({ code: 'too_large' }),
    );
  });
});
