import { describe, expect, it } from 'vitest';
import { parseSnapshot } from '../src/stream-snapshot';

// The read script's reply becomes the retained range the shared reset decision reads.
describe('parseSnapshot', () => {
  it('reads the script reply and keeps only the envelope field of entries', () => {
    const snapshot = parseSnapshot([1, '5-1', 7, 2, '5-0', 1, [['5-1', ['i', 'x', 'e', '{"a":1}']]]]);
    expect(snapshot).toEqual({
      head: '5-1',
      oldest: '5-0',
      trimmed: true,
      floor: '4-9007199254740991',
      holdsCursor: true,
      entries: [{ position: '5-1', json: '{"a":1}' }],
    });
  });

  it('takes the floor of a trimmed stream just before its oldest entry, or at the head once empty', () => {
    expect(parseSnapshot([1, '9-0', 7, 2, '5-3', 0, []]).floor).toBe('5-2');
    expect(parseSnapshot([1, '9-0', 7, 0, '', 0, []]).floor).toBe('9-0');
    expect(parseSnapshot([1, '9-0', 2, 2, '5-3', 0, []]).floor).toBeUndefined();
  });

  it('reads an untrimmed stream, and an empty one', () => {
    expect(parseSnapshot([1, '5-1', 2, 2, '5-0', 0, []])).toMatchObject({
      trimmed: false,
      holdsCursor: false,
    });
    expect(parseSnapshot([1, '5-1', 2, 0, '', 0, []])).toMatchObject({ oldest: undefined, trimmed: true });
  });

  it('reads a missing stream as a never-written topic', () => {
    expect(parseSnapshot([0])).toEqual({
      head: '0-0',
      oldest: undefined,
      trimmed: false,
      floor: undefined,
      holdsCursor: false,
      entries: [],
    });
  });

  it('refuses a Redis without entries-added (before 7.0)', () => {
    expect(() => parseSnapshot([1, '5-1', -1, 2, '5-0', 0, []])).toThrow(/Redis 7/);
  });
});
