import { BusClosedError, BusUnavailableError } from '@repopulse/events-core';
import type { Cluster, Redis } from 'ioredis';

interface Waiter {
  resolve: () => void;
  reject: (error: unknown) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * Lets reads wait (bounded) for the command connection instead of piling up in ioredis's
 * offline queue while Redis is unreachable.
 */
export class ReadyGate {
  private readonly waiters = new Set<Waiter>();
  private closed = false;
  private readonly onReady = () => {
    for (const waiter of [...this.waiters]) this.settle(waiter).resolve();
  };

  constructor(private readonly client: Redis | Cluster) {
    client.on('ready', this.onReady);
  }

  /** True when commands can be sent now. */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** Starts connecting a client created with `lazyConnect` that has not connected yet. */
  poke(): void {
    if (this.client.status === 'wait') this.client.connect().catch(() => {});
  }

  /** Resolves at once when ready, else on the next `ready`; rejects after `timeoutMs` or on close. */
  wait(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (this.ready) return Promise.resolve();
    this.poke();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.settle(waiter).reject(
            new BusUnavailableError(
              `Redis stayed unreachable for ${timeoutMs} ms (status: ${this.client.status})`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Rejects every waiter with `BusClosedError` and stops listening. */
  close(): void {
    this.closed = true;
    this.client.off('ready', this.onReady);
    for (const waiter of [...this.waiters]) this.settle(waiter).reject(new BusClosedError());
  }

  private settle(waiter: Waiter): Waiter {
    clearTimeout(waiter.timer);
    this.waiters.delete(waiter);
    return waiter;
  }
}
