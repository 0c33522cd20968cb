import { describe, expect, it } from 'vitest';
import { BusClosedError, isRepoPulseError, OptionsError } from '../src';
import { checkOptions, createErrorLog, errorLogKey, requireOption } from '../src/bus-kit';

describe('checkOptions', () => {
  const shape = { required: ['bus'], optional: ['heartbeatMs', 'retryMs'] };

  it('accepts known keys', () => {
    expect(() => checkOptions('f', { bus: 1, heartbeatMs: 2 }, shape)).not.toThrow();
    expect(() => checkOptions('f', undefined, { optional: ['a'] })).not.toThrow();
  });

  it('names an unknown key, a case-slip hint and the valid keys', () => {
    const error = (() => {
      try {
        checkOptions('createThing', { bus: 1, heartbeatMS: 2 }, shape);
      } catch (e) {
        return e;
      }
    })() as OptionsError;
    expect(error).toBeInstanceOf(OptionsError);
    expect(error.code).toBe('unknown_option');
    expect(error.option).toBe('heartbeatMS');
    expect(error.message).toBe(
      '[repopulse] createThing: unknown option "heartbeatMS" (did you mean "heartbeatMs"?); valid options: bus, heartbeatMs, retryMs',
    );
  });

  it('refuses a missing required key and a non-object', () => {
    expect(() => checkOptions('f', { heartbeatMs: 1 }, shape)).toThrow(
      expect.objectContaining({ code: 'missing_option', option: 'bus' }),
    );
    expect(() => checkOptions('f', undefined, shape)).toThrow(
      expect.objectContaining({ code: 'invalid_option' }),
    );
    expect(() => checkOptions('f', [], shape)).toThrow(/options must be an object; got an array/);
  });

  it("names a nested object's keys with its prefix", () => {
    const backoff = { optional: ['initialMs', 'maxMs'] };
    expect(() => checkOptions('f', undefined, backoff, 'backoff.')).not.toThrow();
    expect(() => checkOptions('f', { initialMS: 1 }, backoff, 'backoff.')).toThrow(
      expect.objectContaining({
        code: 'unknown_option',
        option: 'backoff.initialMS',
        message:
          '[repopulse] f: unknown option "backoff.initialMS" (did you mean "backoff.initialMs"?); ' +
          'valid options: backoff.initialMs, backoff.maxMs',
      }),
    );
    expect(() => checkOptions('f', 5, backoff, 'backoff.')).toThrow(
      expect.objectContaining({
        code: 'invalid_option',
        message: '[repopulse] f: backoff must be an object; got 5',
      }),
    );
  });
});

describe('requireOption', () => {
  it('names the option, what it must be and what it got', () => {
    expect(() => requireOption('f', 'n', true, 'a number', 1)).not.toThrow();
    for (const [value, shown] of [
      ['15s', '"15s"'],
      [-1, '-1'],
      [undefined, 'undefined'],
      [() => {}, 'a function'],
      [{}, 'an object'],
      ['x'.repeat(50), `"${'x'.repeat(40)}…"`],
    ] as const)
      expect(() => requireOption('f', 'heartbeatMs', false, 'a number ≥ 0', value)).toThrow(
        expect.objectContaining({
          code: 'invalid_option',
          option: 'heartbeatMs',
          message: `[repopulse] f: heartbeatMs must be a number ≥ 0; got ${shown}`,
        }),
      );
  });
});

describe('createErrorLog', () => {
  it('prints the first error of a key, counts the rest, and reports the count after the window', () => {
    let t = 0;
    const lines: string[] = [];
    const log = createErrorLog({ intervalMs: 1000, now: () => t, write: (m) => lines.push(m) });
    for (let i = 0; i < 2000; i++) log('handler:boom', 'handler failed');
    log('handler:other', 'other failed');
    expect(lines).toEqual(['handler failed', 'other failed']);
    t = 1500;
    log('handler:boom', 'handler failed');
    expect(lines[2]).toBe('handler failed (1999 more like it suppressed in the last 1 s)');
  });

  it('keys by source and code, or by error name', () => {
    expect(errorLogKey('handler', new BusClosedError())).toBe('handler:bus_closed');
    expect(errorLogKey('handler', new TypeError('x'))).toBe('handler:TypeError');
  });
});

describe('isRepoPulseError', () => {
  it('recognises our errors, also from another copy, and filters by code', () => {
    expect(isRepoPulseError(new BusClosedError())).toBe(true);
    expect(isRepoPulseError(new BusClosedError(), 'bus_closed')).toBe(true);
    expect(isRepoPulseError(new BusClosedError(), 'bus_unavailable')).toBe(false);
    const foreign = Object.assign(new Error('[repopulse] the bus is closed'), { code: 'bus_closed' });
    expect(isRepoPulseError(foreign, 'bus_closed')).toBe(true);
    expect(isRepoPulseError(Object.assign(new Error('ECONNRESET'), { code: 'ECONNRESET' }))).toBe(false);
    expect(isRepoPulseError('bus_closed')).toBe(false);
  });
});
