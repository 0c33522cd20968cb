import { computeBackoff } from '@repopulse/events-core/bus-kit';

/**
 * Capped exponential backoff shared by every topic of one relay: the bus is one thing, so when it
 * fails every topic waits, and the first success resets the delay.
 */
export class RetryDelay {
  private failures = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
  ) {}

  /** True after a failure and until the next success. */
  get failing(): boolean {
    return this.failures > 0;
  }

  /** Records a failure; returns how long to wait before trying again (`minMs` doubling to `maxMs`, the top 20 % random). */
  failed(): number {
    return computeBackoff(this.failures++, { initialMs: this.minMs, maxMs: this.maxMs, jitter: 0.2 });
  }

  /** Records a success. */
  succeeded(): void {
    this.failures = 0;
  }
}
