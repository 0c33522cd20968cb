// What every package's factory and transport share from bus-kit: the bounded wait on a store call,
// and the checked, guarded `onError`.
import { describe, expect, it } from 'vitest';
import { OptionsError } from '../../src';
import { resolveErrorHandler, Waiters, withTimeout } from '../../src/bus-kit';

describe('withTimeout', () => {
  it('settles as the promise does when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, () => new Error('late'))).resolves.toBe(7);
    const refused = new Error('refused');
    await expect(withTimeout(Promise.reject(refused), 1000, () => new Error('late'))).rejects.toBe(refused);
  });

  it('rejects with makeError() when the promise is still pending after the bound', async () => {
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 10, () => new Error('no answer within 10 ms'))).rejects.toThrow(
      'no answer within 10 ms',
    );
  });
});

describe('resolveErrorHandler', () => {
  it('refuses an onError that is not a function, naming the factory', () => {
    expect(() => resolveErrorHandler('createThing', 'log' as never, () => {})).toThrow(OptionsError);
    expect(() => resolveErrorHandler('createThing', 'log' as never, () => {})).toThrow(
      '[repopulse] createThing: onError must be a function; got "log"',
    );
  });

  it('calls the given handler, else the fallback, and swallows what it throws', () => {
    const seen: string[] = [];
    const given = resolveErrorHandler(
      'f',
      (error: Error) => {
        seen.push(`given ${error.message}`);
        throw new Error('a throwing onError');
      },
      (error: Error) => seen.push(`fallback ${error.message}`),
    );
    expect(() => given(new Error('a'))).not.toThrow();
    resolveErrorHandler('f', undefined, (error: Error) => seen.push(`fallback ${error.message}`))(
      new Error('b'),
    );
    expect(seen).toEqual(['given a', 'fallback b']);
  });
});

describe('Waiters', () => {
  it('resolves every waiter on resolveAll, rejects every one on rejectAll, and each alone after its bound', async () => {
    const waiters = new Waiters();
    const first = waiters.wait(1000, () => new Error('late'));
    const second = waiters.wait(1000, () => new Error('late'));
    waiters.resolveAll();
    await expect(Promise.all([first, second])).resolves.toEqual([undefined, undefined]);

    const closed = new Error('closed');
    const third = waiters.wait(1000, () => new Error('late'));
    waiters.rejectAll(closed);
    await expect(third).rejects.toBe(closed);

    const bounded = waiters.wait(10, () => new Error('unreachable for 10 ms'));
    await expect(bounded).rejects.toThrow('unreachable for 10 ms');
    waiters.resolveAll(); // the timed-out waiter is gone: nothing left to settle
  });
});
