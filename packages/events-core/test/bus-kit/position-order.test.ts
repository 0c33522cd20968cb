import type { StreamPosition } from '@repopulse/events-core';
import { comparePositions } from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';
import { isAfter as follows } from '../../src/wire/position';

describe('follows', () => {
  it('orders positions exactly like comparePositions', () => {
    const parts = [0, 1, 9, 10, 99, 100, 1_700_000_000_000, 1_700_000_000_001, 17_000_000_000_000];
    const positions: StreamPosition[] = [];
    for (const ms of parts) for (const seq of [0, 1, 9, 10, 11, 100]) positions.push(`${ms}-${seq}`);
    for (const a of positions) {
      for (const b of positions) expect(follows(a, b), `${a} after ${b}`).toBe(comparePositions(a, b) > 0);
    }
  });
});
