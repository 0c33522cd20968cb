import {
  encodeLongPollBody,
  encodeSseReset,
  parseLongPollBody,
  type ResetDelivery,
  resetFromWire,
  resetToWire,
  retainedTailAfter,
} from '@repopulse/events-core/wire';
import { describe, expect, it } from 'vitest';

const expired: ResetDelivery = { reset: true, reason: 'expired', position: '9-0', retainedAfter: '6-0' };
const lost: ResetDelivery = { reset: true, reason: 'history_lost', position: '4-2' };

describe('the reset on the wire', () => {
  it('is snake_case on the wire and camelCase in code, both ways, retained_after only when set', () => {
    expect(resetToWire(expired)).toEqual({ reason: 'expired', position: '9-0', retained_after: '6-0' });
    expect(resetToWire(lost)).toStrictEqual({ reason: 'history_lost', position: '4-2' });
    for (const reset of [expired, lost]) expect(resetFromWire(resetToWire(reset))).toStrictEqual(reset);
    expect(resetFromWire(JSON.parse(JSON.stringify(resetToWire(expired))))).toStrictEqual(expired);
  });

  it('reads nothing from data that is not an object', () => {
    for (const data of [null, undefined, 'reset', 3]) expect(resetFromWire(data)).toBeUndefined();
  });

  it('is the same reset in an SSE frame and in a long-poll answer', () => {
    const frame = encodeSseReset(expired);
    expect(frame).toBe(encodeSseReset('expired', '9-0', '6-0'));
    const data = /^data: (.*)$/m.exec(frame)?.[1] as string;
    expect(resetFromWire(JSON.parse(data))).toStrictEqual(expired);
    const answer = parseLongPollBody(JSON.parse(encodeLongPollBody([], '9-0', expired)));
    expect(answer?.reset).toStrictEqual(expired);
    expect(JSON.parse(encodeLongPollBody([], '9-0', expired)).reset).toEqual(JSON.parse(data));
  });

  it('refuses a frame whose positions would break a line, like every frame encoder', () => {
    expect(() => encodeSseReset({ ...expired, retainedAfter: '6-0\nevent: x' as never })).toThrow(
      expect.objectContaining({ code: 'invalid_field', field: 'retained_after' }),
    );
    expect(() => encodeSseReset({ ...lost, position: '1-0\r' as never })).toThrow(
      expect.objectContaining({ code: 'invalid_field', field: 'position' }),
    );
  });

  it('says where the retained tail starts only for an expired reset of a read from the start', () => {
    expect(retainedTailAfter(expired, '0-0')).toBe('6-0');
    expect(retainedTailAfter(expired, '3-0')).toBeUndefined();
    expect(retainedTailAfter({ ...expired, reason: 'unknown_position' }, '0-0')).toBeUndefined();
    expect(retainedTailAfter({ reset: true, reason: 'expired', position: '9-0' }, '0-0')).toBeUndefined();
  });
});
