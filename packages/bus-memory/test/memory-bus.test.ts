import { createEvent } from '@repopulse/events-core';
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../src/index';

const event = (message: string) => createEvent('log.append', { level: 'info', message });

describe('createMemoryBus', () => {
  it('issues <ms>-<seq> positions from its clock, strictly increasing even when the clock goes back', async () => {
    let clock = 1_000;
    const bus = createMemoryBus({ now: () => clock });
    const positions = [];
    positions.push((await bus.publish('t', event('a'))).position);
    positions.push((await bus.publish('t', event('b'))).position);
    clock = 900;
    positions.push((await bus.publish('t', event('c'))).position);
    clock = 2_000;
    positions.push((await bus.publish('t', event('d'))).position);
    expect(positions).toEqual(['1000-0', '1000-1', '1000-2', '2000-0']);
  });

  it('counts TTL from its clock', async () => {
    let clock = 10_000;
    const bus = createMemoryBus({ now: () => clock, historyTtlMs: 1_000 });
    const first = await bus.publish('t', event('old'));
    clock += 1;
    const newestExpired = await bus.publish('t', event('old too'));
    clock += 5_000;
    await bus.publish('t', event('new'));
    const got: unknown[] = [];
    await bus.subscribe(
      't',
      (d) => {
        got.push(d);
      },
      { after: first.position },
    );
    expect(got).toEqual([
      { reset: true, position: '15001-0', reason: 'expired', retainedAfter: newestExpired.position },
    ]);
  });

  it.each([
    [{ historyLimit: 0 }, 'historyLimit', /createMemoryBus: historyLimit must be a positive integer; got 0/],
    [{ historyLimit: 1.5 }, 'historyLimit', /historyLimit/],
    [{ historyTtlMs: -1 }, 'historyTtlMs', /historyTtlMs must be a positive number of milliseconds; got -1/],
    [{ maxEventBytes: 0 }, 'maxEventBytes', /maxEventBytes/],
    [{ onError: 'log' }, 'onError', /onError must be a function; got "log"/],
  ])('refuses a bad value %# with a typed invalid_option', (options, option, message) => {
    expect(() => createMemoryBus(options as never)).toThrow(message);
    expect(() => createMemoryBus(options as never)).toThrow(
      expect.objectContaining({ code: 'invalid_option', option, name: 'OptionsError' }),
    );
  });

  it('refuses an unknown option key, naming the valid ones', () => {
    const make = () => createMemoryBus({ historylimit: 5 } as never);
    expect(make).toThrow(expect.objectContaining({ code: 'unknown_option', option: 'historylimit' }));
    expect(make).toThrow(
      /unknown option "historylimit" \(did you mean "historyLimit"\?\); valid options: historyLimit, historyTtlMs, onError, maxEventBytes, now/,
    );
  });

  it('enforces maxEventBytes', async () => {
    const bus = createMemoryBus({ maxEventBytes: 200 });
    await expect(bus.publish('t', event('x'.repeat(300)))).rejects.toMatchObject({ code: 'too_large' });
    expect(await bus.head('t')).toBe('0-0');
  });

  it('sends errors of handlers to console.error when no onError is given', async () => {
    const bus = createMemoryBus();
    const logged: unknown[][] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => logged.push(args);
    try {
      await bus.subscribe('t', () => {
        throw new Error('handler failed');
      });
      await bus.publish('t', event('a'));
    } finally {
      console.error = original;
    }
    expect(String(logged[0]?.[0])).toContain('bus handler error on t');
    expect((logged[0]?.[1] as Error | undefined)?.message).toBe('handler failed');
  });
});
