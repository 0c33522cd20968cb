interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Callers waiting, each for a bounded time, for one thing to happen: a bus's transport lets a read
 * wait for its connection to be up instead of queueing while the store is unreachable.
 *
 * @example
 * ```ts
 * const waiters = new Waiters();
 * client.on('ready', () => waiters.resolveAll());
 * await waiters.wait(2000, () => new BusUnavailableError('unreachable for 2000 ms'));
 * ```
 */
export class Waiters {
  private readonly pending = new Set<Waiter>();

  /** Resolves on the next {@link resolveAll}; rejects with `makeError()` after `timeoutMs`, or on {@link rejectAll}. */
  wait(timeoutMs: number, makeError: () => Error): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => this.settle(waiter).reject(makeError()), Math.max(0, timeoutMs)),
      };
      this.pending.add(waiter);
    });
  }

  /** Resolves every waiter (the awaited thing happened). */
  resolveAll(): void {
    for (const waiter of [...this.pending]) this.settle(waiter).resolve();
  }

  /** Rejects every waiter with `error` (e.g. `BusClosedError` on close). */
  rejectAll(error: unknown): void {
    for (const waiter of [...this.pending]) this.settle(waiter).reject(error);
  }

  private settle(waiter: Waiter): Waiter {
    clearTimeout(waiter.timer);
    this.pending.delete(waiter);
    return waiter;
  }
}
