import { expect } from 'vitest';

/** Runs `fn`, expects it to throw an instance of `type`, and returns that error. */
export function thrown<E extends Error>(type: abstract new (...args: never[]) => E, fn: () => unknown): E {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return error as E;
  }
  throw new Error(`expected an ${type.name}, nothing was thrown`);
}
