import { comparePositions, isAfter, type StreamPosition } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';

describe('isAfter', () => {
  it.each([
    ['1-0', '', true],
    ['1-1', '1-0', true],
    ['2-0', '1-9', true],
    ['10-0', '9-0', true],
    ['1-0', '1-0', false],
    ['1-0', '1-1', false],
    ['9-5', '10-0', false],
    ['weird', '1-0', true],
    ['1-0', 'weird', true],
  ])('isAfter(%j, %j) is %s', (a, b, expected) => {
    expect(isAfter(a, b)).toBe(expected);
  });

  it('orders well-formed positions exactly like comparePositions', () => {
    const positions: StreamPosition[] = [];
    for (const ms of [0, 7, 10, 1_700_000_000_000, 17_000_000_000_000]) {
      for (const seq of [0, 3, 10, 100]) positions.push(`${ms}-${seq}`);
    }
    for (const a of positions) {
      for (const b of positions) expect(isAfter(a, b), `${a} after ${b}`).toBe(comparePositions(a, b) > 0);
    }
  });
});
