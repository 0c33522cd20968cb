import { describe, expect, it } from 'vitest';
import { BusClosedError, isRepoPulseError, OptionsError } from '../src';
import { checkOptions, createErrorLog, errorLogKey } from '../src/bus-kit';

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
