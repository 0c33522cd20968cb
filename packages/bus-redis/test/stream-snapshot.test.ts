import type { ResetReason, StreamPosition } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { type CursorMode, judgeCursor, parseSnapshot, type StreamSnapshot } from '../src/stream-snapshot';

const stream = (overrides: Partial<StreamSnapshot>): StreamSnapshot => ({
  exists: true,
  last: '100-5',
  added: 10,
  length: 10,
  first: '100-0',
  found: false,
  entries: [],
  ...overrides,
});
const missing = parseSnapshot([0]);

// Pure decision table of which resume points are replayable (the read script supplies the snapshot).
describe('judgeCursor', () => {
  const cases: [string, StreamPosition, StreamSnapshot, CursorMode, ResetReason | undefined][] = [
    ['0-0 on a missing stream', '0-0', missing, 'subscribe', undefined],
    ['a position on a missing stream', '100-1', missing, 'subscribe', 'unknown_position'],
    [
      'a delivered position on a missing stream (restart without persistence)',
      '100-1',
      missing,
      'resume',
      'history_lost',
    ],
    ['the last issued position', '100-5', stream({}), 'subscribe', undefined],
    [
      'the last issued position after everything expired',
      '100-5',
      stream({ length: 0, first: undefined }),
      'resume',
      undefined,
    ],
    ['0-0 while nothing was trimmed', '0-0', stream({}), 'subscribe', undefined],
    ['0-0 after trimming', '0-0', stream({ added: 50 }), 'subscribe', 'expired'],
    ['a future position', '100-6', stream({}), 'subscribe', 'unknown_position'],
    ['a delivered position beyond a recreated stream', '200-0', stream({}), 'resume', 'history_lost'],
    ['a retained position', '100-2', stream({ found: true }), 'subscribe', undefined],
    [
      'a never-issued position inside the window',
      '100-3',
      stream({ first: '100-0' }),
      'subscribe',
      'unknown_position',
    ],
    ['a trimmed position', '50-0', stream({ added: 50, first: '100-0' }), 'subscribe', 'expired'],
    ['a trimmed delivered position', '50-0', stream({ added: 50, first: '100-0' }), 'resume', 'expired'],
    [
      'an old position of an untrimmed stream',
      '50-0',
      stream({ first: '100-0' }),
      'subscribe',
      'unknown_position',
    ],
    [
      'a delivered position older than a recreated stream',
      '50-0',
      stream({ first: '100-0' }),
      'resume',
      'history_lost',
    ],
  ];
  it.each(cases)('%s', (_label, cursor, snapshot, mode, expected) => {
    expect(judgeCursor(cursor, snapshot, mode)).toBe(expected);
  });
});

describe('parseSnapshot', () => {
  it('reads the script reply and keeps only the envelope field of entries', () => {
    const snapshot = parseSnapshot([1, '5-1', 7, 2, '5-0', 1, [['5-1', ['i', 'x', 'e', '{"a":1}']]]]);
    expect(snapshot).toEqual({
      exists: true,
      last: '5-1',
      added: 7,
      length: 2,
      first: '5-0',
      found: true,
      entries: [{ position: '5-1', json: '{"a":1}' }],
    });
  });

  it('refuses a Redis without entries-added (before 7.0)', () => {
    expect(() => parseSnapshot([1, '5-1', -1, 2, '5-0', 0, []])).toThrow(/Redis 7/);
  });
});
