import { OptionsError } from '@repopulse/events-core';
import { isolateHandler, requireOption, resolveBusOptions } from '@repopulse/events-core/bus-kit';
import { describe, expect, it } from 'vitest';

describe('resolveBusOptions', () => {
  it('applies the defaults and accepts the bus own keys', () => {
    const resolved = resolveBusOptions('createX', { flushMs: 5 } as never, { optional: ['flushMs'] });
    expect(resolved).toMatchObject({ historyLimit: 1000, historyTtlMs: undefined, maxEventBytes: undefined });
    expect(resolveBusOptions('createX', undefined).historyLimit).toBe(1000);
  });

  it('refuses an unknown key with OptionsError naming the valid ones', () => {
    expect(() =>
      resolveBusOptions('createX', { histroyLimit: 3 } as never, { optional: ['flushMs'] }),
    ).toThrow(
      /createX: unknown option "histroyLimit"; valid options: historyLimit, historyTtlMs, onError, maxEventBytes, flushMs/,
    );
  });

  it('refuses a missing required key', () => {
    expect(() => resolveBusOptions('createX', {}, { required: ['url'] })).toThrow(
      expect.objectContaining({ code: 'missing_option', option: 'url' }),
    );
  });

  it('wraps onError so that a throwing one cannot break delivery', () => {
    const seen: unknown[] = [];
    const { report } = resolveBusOptions('createX', {
      onError: (error) => {
        seen.push(error);
        throw new Error('onError itself failed');
      },
    });
    expect(() => report('boom', { source: 'handler' })).not.toThrow();
    expect(seen).toEqual(['boom']);
  });
});

describe('requireOption', () => {
  it('throws a typed invalid_option with the value described', () => {
    const error = (() => {
      try {
        requireOption('createX', 'flushMs', false, 'a positive integer', 'soon');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(OptionsError);
    expect(error).toMatchObject({
      code: 'invalid_option',
      option: 'flushMs',
      message: '[repopulse] createX: flushMs must be a positive integer; got "soon"',
    });
  });
});

describe('isolateHandler', () => {
  it('routes a throw and a rejection to report, and does not wait for a promise that never settles', async () => {
    const reported: [unknown, unknown][] = [];
    const report = (error: unknown, context: unknown) => reported.push([error, context]);
    const delivery = { reset: true, position: '0-0', reason: 'expired' } as const;
    isolateHandler(
      () => {
        throw new Error('sync');
      },
      report,
      't',
    )(delivery);
    isolateHandler(() => Promise.reject(new Error('async')), report, 't')(delivery);
    let calls = 0;
    const never = isolateHandler(
      () => {
        calls++;
        return new Promise<void>(() => {});
      },
      report,
      't',
    );
    never(delivery);
    never(delivery);
    await new Promise((resolve) => setImmediate(resolve));
    expect(calls).toBe(2);
    expect(reported).toEqual([
      [new Error('sync'), { topic: 't', source: 'handler' }],
      [new Error('async'), { topic: 't', source: 'handler' }],
    ]);
  });
});
