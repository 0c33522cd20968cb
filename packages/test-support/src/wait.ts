/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /**
   * Give up (reject) after this many milliseconds.
   * @default 10000
   */
  timeoutMs?: number;
  /**
   * How often to check, in milliseconds.
   * @default 5
   */
  intervalMs?: number;
  /**
   * What is awaited, for the timeout message.
   * @default 'condition'
   */
  what?: string;
}

/**
 * Resolves once `predicate()` is true (checked every `intervalMs`), or rejects after `timeoutMs`.
 *
 * @example
 * ```ts
 * await waitFor(() => handler.stats().streams === 0, { what: 'streams to close' });
 * ```
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  { timeoutMs = 10_000, intervalMs = 5, what = 'condition' }: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Sleeps `ms` (only where time itself is what a test is about, e.g. heartbeats). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
