import { afterEach } from 'vitest';

/** A test file's teardowns: push to it in a test; they run newest first after each test. */
export type Cleanups = (() => unknown)[];

/**
 * Registers an `afterEach` that runs (and empties) the returned list, newest first.
 * @param first Runs before the teardowns after each test (e.g. resetting page visibility).
 */
export function cleanupAfterEach(first?: () => void): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    first?.();
    for (const fn of cleanups.splice(0).reverse()) await fn();
  });
  return cleanups;
}
