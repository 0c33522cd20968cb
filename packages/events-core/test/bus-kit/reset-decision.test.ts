import type { ResetReason } from '@repopulse/events-core';
import { type CursorOrigin, decideReplay, type RetainedRange } from '@repopulse/events-core/bus-kit';
import { describe, expect, it } from 'vitest';

/** A topic whose retained history is 100-0 … 100-5 (ten events ever added, none trimmed). */
const range = (overrides: Partial<RetainedRange> = {}): RetainedRange => ({
  head: '100-5',
  oldest: '100-0',
  trimmed: false,
  floor: undefined,
  holdsCursor: false,
  ...overrides,
});
const never: RetainedRange = {
  head: '0-0',
  oldest: undefined,
  trimmed: false,
  floor: undefined,
  holdsCursor: false,
};
/** The same topic after its oldest events up to 99-9 left the history. */
const trimmed = (overrides: Partial<RetainedRange> = {}): RetainedRange =>
  range({ trimmed: true, floor: '99-9', ...overrides });

// The whole decision of which resume points are replayable, as one pure table: every bus asks it.
describe('decideReplay', () => {
  const cases: [string, string, RetainedRange, CursorOrigin, ResetReason | undefined][] = [
    ['a malformed cursor', 'nope', range(), 'requested', 'malformed'],
    ['a cursor with a sign', '-1-0', range(), 'requested', 'malformed'],
    ['0-0 on a never-written topic', '0-0', never, 'requested', undefined],
    ['a position on a never-written topic', '100-1', never, 'requested', 'unknown_position'],
    [
      'a delivered position on a lost topic (restart without persistence)',
      '100-1',
      never,
      'delivered',
      'history_lost',
    ],
    ['the head', '100-5', range({ holdsCursor: true }), 'requested', undefined],
    [
      'the head after everything expired',
      '100-5',
      range({ oldest: undefined, trimmed: true }),
      'delivered',
      undefined,
    ],
    ['0-0 while nothing was trimmed', '0-0', range(), 'requested', undefined],
    ['0-0 after trimming', '0-0', range({ trimmed: true }), 'requested', 'expired'],
    [
      '0-0 delivered (head taken at 0-0) after trimming',
      '0-0',
      range({ trimmed: true }),
      'delivered',
      'expired',
    ],
    ['a future position', '100-6', range(), 'requested', 'unknown_position'],
    ['a delivered position beyond a recreated topic', '200-0', range(), 'delivered', 'history_lost'],
    ['a retained position', '100-2', range({ holdsCursor: true }), 'requested', undefined],
    [
      'a retained position of a trimmed topic',
      '100-2',
      range({ holdsCursor: true, trimmed: true }),
      'requested',
      undefined,
    ],
    ['a never-issued position inside the window', '100-3', range(), 'requested', 'unknown_position'],
    [
      'a never-issued position inside a trimmed window',
      '100-3',
      range({ trimmed: true }),
      'requested',
      'unknown_position',
    ],
    ['a trimmed position', '50-0', range({ trimmed: true }), 'requested', 'expired'],
    ['a trimmed delivered position', '50-0', range({ trimmed: true }), 'delivered', 'expired'],
    [
      'any old position once everything expired',
      '50-0',
      range({ oldest: undefined, trimmed: true }),
      'requested',
      'expired',
    ],
    ['an old position of an untrimmed topic', '50-0', range(), 'requested', 'unknown_position'],
    ['the floor of a trimmed topic', '99-9', trimmed(), 'requested', undefined],
    ['the floor reached as a delivered position', '99-9', trimmed(), 'delivered', undefined],
    ['a position just before the floor', '99-8', trimmed(), 'requested', 'expired'],
    ['0-0 with a known floor', '0-0', trimmed(), 'requested', 'expired'],
    [
      'the floor once everything expired (it is the head)',
      '100-5',
      trimmed({ oldest: undefined, floor: '100-5' }),
      'requested',
      undefined,
    ],
    [
      'a position before the floor once everything expired',
      '100-4',
      trimmed({ oldest: undefined, floor: '100-5' }),
      'requested',
      'expired',
    ],
    ['a delivered position older than a recreated topic', '50-0', range(), 'delivered', 'history_lost'],
  ];
  it.each(cases)('%s', (_label, cursor, retained, origin, expected) => {
    expect(decideReplay(cursor, retained, origin)).toBe(expected);
  });
});
