/**
 * `promise`, or a rejection with `makeError()` when it has not settled within `timeoutMs`: a bus's
 * bound on a call to its store. The timer is cleared as soon as `promise` settles.
 *
 * @example
 * ```ts
 * await withTimeout(client.ping(), 2000, () => new BusUnavailableError('Redis did not answer within 2 s'));
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, timeoutMs: number, makeError: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(makeError()), timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
