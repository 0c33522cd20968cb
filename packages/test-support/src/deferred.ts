/** What {@link deferred} returns: a promise and the function that resolves it. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

/**
 * A promise resolved from outside: lets a test hold something open (a transaction, a load) and
 * let it go when it chooses.
 *
 * @example
 * ```ts
 * const { promise: held, resolve: release } = deferred();
 * const load = () => held; // pending until release()
 * ```
 */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}
