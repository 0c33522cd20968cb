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

  /** Records a failure; returns how long to wait before trying again (with up to 20 % jitter). */
  failed(): number {
    this.failures++;
    const base = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(base * (0.8 + Math.random() * 0.2));
  }

  /** Records a success. */
  succeeded(): void {
    this.failures = 0;
  }
}
