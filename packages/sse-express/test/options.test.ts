import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMemoryBus } from '@repopulse/bus-memory';
import { isRepoPulseError, OptionsError } from '@repopulse/events-core';
import { describe, expect, it, vi } from 'vitest';
import { getJson } from '../../sse-server/test/helpers/raw-stream';
import { createEventStreamCore, createEventStreamHandler } from '../src/index';

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

describe('default error logging', () => {
  it('is rate-limited per error kind: 5 failing requests print one line with its error', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => {});
    const core = createEventStreamCore({
      bus,
      topic: () => {
        throw new TypeError('topic lookup failed');
      },
    });
    const server = createServer((req, res) => void core.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      for (let i = 0; i < 5; i++) {
        expect(await getJson(url)).toMatchObject({
          status: 500,
          body: { error: { code: 'internal_error' } },
        });
      }
      expect(printed).toHaveBeenCalledTimes(1);
      expect(String(printed.mock.calls[0]?.[0])).toContain('[repopulse] sse-express error');
      expect(printed.mock.calls[0]?.[1]).toBeInstanceOf(TypeError);
    } finally {
      printed.mockRestore();
      await core.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
