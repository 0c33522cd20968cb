import {
  comparePositions,
  formatPosition,
  isPosition,
  nextPosition,
  parsePosition,
  ZERO_POSITION,
} from '@repopulse/events-core/wire';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { BusError, RepoPulseError, type StreamPosition } from '../src/index';

const MALFORMED: Array<[string, unknown]> = [
  ['empty', ''],
  ['no dash', '1700000000000'],
  ['no seq', '1700000000000-'],
  ['no ms', '-1'],
  ['negative ms', '-1-0'],
  ['negative seq', '1--1'],
  ['leading zero ms', '01-0'],
  ['leading zero seq', '1-01'],
  ['double zero', '00-0'],
  ['leading space', ' 1-0'],
  ['trailing space', '1-0 '],
  ['inner space', '1 -0'],
  ['trailing newline', '1-0\n'],
  ['CR', '1-0\r'],
  ['plus sign', '+1-0'],
  ['decimal', '1.5-0'],
  ['exponent', '1e3-0'],
  ['hex', '0x10-0'],
  ['three parts', '1-2-3'],
  ['letters', 'abc-def'],
  ['Redis special $', '$'],
  ['Redis special >', '>'],
  ['Redis special *', '*'],
  ['full-width digits', '１-0'],
  ['17 digits', '12345678901234567-0'],
  ['above MAX_SAFE_INTEGER', '9007199254740992-0'],
  ['seq above MAX_SAFE_INTEGER', '1-9999999999999999'],
  ['a number', 1],
  ['null', null],
  ['undefined', undefined],
  ['an object', { ms: 1, seq: 0 }],
];

describe('parsePosition / isPosition', () => {
  it.each([
    ['0-0', 0, 0],
    ['1-0', 1, 0],
    ['0-7', 0, 7],
    ['1700000000000-3', 1_700_000_000_000, 3],
    ['9007199254740991-9007199254740991', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  ])('parses %s', (text, ms, seq) => {
    expect(parsePosition(text)).toEqual({ ms, seq });
    expect(isPosition(text)).toBe(true);
  });

  it.each(MALFORMED)('returns undefined (never throws) for %s', (_what, value) => {
    expect(parsePosition(value)).toBeUndefined();
    expect(isPosition(value)).toBe(false);
  });

  it('has ZERO_POSITION 0-0', () => {
    expect(ZERO_POSITION).toBe('0-0');
    expect(parsePosition(ZERO_POSITION)).toEqual({ ms: 0, seq: 0 });
  });

  it('narrows with isPosition', () => {
    const value: unknown = '5-1';
    if (isPosition(value)) expectTypeOf(value).toEqualTypeOf<StreamPosition>();
    expect(isPosition(value)).toBe(true);
  });
});

describe('formatPosition', () => {
  it('formats parts and round-trips with parsePosition', () => {
    expect(formatPosition({ ms: 1_700_000_000_000, seq: 12 })).toBe('1700000000000-12');
    expect(formatPosition({ ms: 0, seq: 0 })).toBe('0-0');
    for (const text of ['0-0', '1-2', '1732842000000-0', '9007199254740991-1']) {
      expect(formatPosition(parsePosition(text)!)).toBe(text);
    }
  });
});

describe('comparePositions', () => {
  it.each([
    ['1-0', '2-0', -1],
    ['2-0', '1-0', 1],
    ['5-5', '5-5', 0],
    ['5-1', '5-2', -1],
    ['5-10', '5-9', 1], // numeric, not lexicographic
    ['9-0', '10-0', -1], // numeric, not lexicographic
    ['1-999', '2-0', -1], // milliseconds first
    ['0-0', '1732842000000-0', -1],
    ['9007199254740991-0', '9007199254740990-5', 1],
  ])('%s vs %s → %i', (a, b, sign) => {
    expect(Math.sign(comparePositions(a, b))).toBe(sign);
    expect(Math.sign(comparePositions(b, a))).toBe(-sign || 0);
  });

  it('sorts positions numerically', () => {
    const list = ['10-0', '9-2', '9-10', '0-0', '9-1', '100-0'];
    expect([...list].sort(comparePositions)).toEqual(['0-0', '9-1', '9-2', '9-10', '10-0', '100-0']);
  });

  it.each(['01-0', '1-0 ', '', 'abc', '-1-0'])(
    'throws BusError invalid_position for %j, naming it',
    (bad) => {
      for (const call of [() => comparePositions(bad, '1-0'), () => comparePositions('1-0', bad)]) {
        let caught: unknown;
        try {
          call();
        } catch (error) {
          caught = error;
        }
        expect(caught).toBeInstanceOf(BusError);
        expect(caught).toBeInstanceOf(RepoPulseError);
        expect(caught).toMatchObject({ code: 'invalid_position' });
        expect((caught as Error).message).toContain(JSON.stringify(bad));
      }
    },
  );
});

describe('nextPosition', () => {
  it('starts at <now>-0 without a previous position', () => {
    expect(nextPosition(undefined, 1_000)).toBe('1000-0');
  });

  it('moves to <now>-0 when the clock moved on', () => {
    expect(nextPosition('1000-7', 1_001)).toBe('1001-0');
  });

  it('increments seq within the same millisecond', () => {
    let position: StreamPosition = nextPosition(undefined, 1_000);
    const seen = [position];
    for (let i = 0; i < 5; i++) {
      position = nextPosition(position, 1_000);
      seen.push(position);
    }
    expect(seen).toEqual(['1000-0', '1000-1', '1000-2', '1000-3', '1000-4', '1000-5']);
  });

  it('keeps increasing when the clock goes backwards', () => {
    expect(nextPosition('1000-3', 999)).toBe('1000-4');
    expect(nextPosition('1000-3', 0)).toBe('1000-4');
    expect(nextPosition('1000-3', -5)).toBe('1000-4');
  });

  it('stays strictly increasing for fractional clocks', () => {
    expect(nextPosition('5-3', 5.5)).toBe('5-4');
    expect(nextPosition('5-3', 6.9)).toBe('6-0');
    expect(nextPosition(undefined, 6.9)).toBe('6-0');
  });

  it('never produces a malformed position from a bad clock', () => {
    expect(nextPosition(undefined, -5)).toBe('0-0');
    expect(nextPosition(undefined, Number.NaN)).toBe('0-0');
    expect(nextPosition('7-1', Number.NaN)).toBe('7-2');
    expect(isPosition(nextPosition(undefined, Number.POSITIVE_INFINITY))).toBe(true);
    expect(isPosition(nextPosition(undefined, 1e20))).toBe(true);
  });

  it('treats a malformed previous position as none', () => {
    expect(nextPosition('garbage' as StreamPosition, 42)).toBe('42-0');
  });

  it('is strictly increasing over any sequence of clock readings', () => {
    const clock = [5, 5, 5, 4, 6, 6, 1, 7, 7.2, 7.9, 8, 100, 99, 100, 100];
    let last: StreamPosition | undefined;
    for (const now of clock) {
      const next = nextPosition(last, now);
      expect(isPosition(next)).toBe(true);
      if (last) expect(comparePositions(last, next), `${last} → ${next} at ${now}`).toBeLessThan(0);
      last = next;
    }
  });
});
