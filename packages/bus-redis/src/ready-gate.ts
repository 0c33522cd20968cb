import { BusClosedError, BusUnavailableError } from '@repopulse/events-core';
import { Waiters } from '@repopulse/events-core/bus-kit';
import type { Cluster, Redis } from 'ioredis';

/**
 * Lets reads wait (bounded) for the command connection instead of piling up in ioredis's
 * offline queue while Redis is unreachable.
 */
export class ReadyGate {
  private readonly waiters = new Waiters();
  private closed = false;
  private readonly onReady = () => this.waiters.resolveAll();

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
    return this.waiters.wait(
      timeoutMs,
      () =>
        new BusUnavailableError(
          `Redis stayed unreachable for ${timeoutMs} ms (status: ${this.client.status})`,
        ),
    );
  }

  /** Rejects every waiter with `BusClosedError` and stops listening. */
  close(): void {
    this.closed = true;
    this.client.off('ready', this.onReady);
    this.waiters.rejectAll(new BusClosedError());
  }
}
