import { createMemoryBus } from '@repopulse/bus-memory';
import { isRepoPulseError, OptionsError } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { createEventStreamHandler } from '../src/index';

const bus = createMemoryBus();
const thrown = (make: () => unknown): unknown => {
  try {
    make();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
};

describe('handler options are checked at runtime (plain JavaScript too)', () => {
  it('an unknown option is an OptionsError naming it, a case slip and the valid options', () => {
    const error = thrown(() => createEventStreamHandler({ bus, topic: 't', heartbeatMS: 5 } as never));
    expect(error).toBeInstanceOf(OptionsError);
    expect(error).toMatchObject({ code: 'unknown_option', option: 'heartbeatMS' });
    const { message } = error as Error;
    expect(message).toContain('did you mean "heartbeatMs"');
    for (const valid of ['bus', 'topic', 'windowEvents', 'windowBytes', 'onError'])
      expect(message).toContain(valid);
  });

  it('a missing bus or topic is missing_option; a wrong bus or topic invalid_option', () => {
    expect(thrown(() => createEventStreamHandler({ topic: 't' } as never))).toMatchObject({
      code: 'missing_option',
      option: 'bus',
    });
    expect(thrown(() => createEventStreamHandler({ bus } as never))).toMatchObject({
      code: 'missing_option',
      option: 'topic',
    });
    expect(thrown(() => createEventStreamHandler(undefined as never))).toMatchObject({
      code: 'invalid_option',
    });
    expect(thrown(() => createEventStreamHandler({ bus: {}, topic: 't' } as never))).toMatchObject({
      code: 'invalid_option',
      option: 'bus',
    });
    const wrongTopic = thrown(() => createEventStreamHandler({ bus, topic: 42 } as never));
    expect(isRepoPulseError(wrongTopic, 'invalid_option')).toBe(true);
  });

  it('window bounds must be positive numbers', () => {
    for (const bad of [0, -1, Number.NaN, '5']) {
      expect(() => createEventStreamHandler({ bus, topic: 't', windowEvents: bad as number })).toThrow(
        /windowEvents/,
      );
      expect(() => createEventStreamHandler({ bus, topic: 't', windowBytes: bad as number })).toThrow(
        /windowBytes/,
      );
    }
    expect(() =>
      createEventStreamHandler({ bus, topic: 't', windowEvents: 1, windowBytes: 100 }),
    ).not.toThrow();
  });
});
