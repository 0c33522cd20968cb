/** Options of {@link createErrorLog}. */
export interface ErrorLogOptions {
  /**
   * After an error is logged, further errors with the same key are counted, not printed, for this
   * long; the next one printed after that says how many were suppressed.
   * @default 60000
   */
  intervalMs?: number;
  /**
   * Where lines go.
   * @default console.error
   */
  write?: (message: string, error?: unknown) => void;
  /**
   * Clock; override in tests.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * Logs an error under a key (e.g. `handler:invalid_payload`): the first of each key in a window
 * with its full error, the rest counted and summarised once the window has passed.
 */
export type ErrorLog = (key: string, message: string, error?: unknown) => void;

/**
 * A rate-limited error log, used by RepoPulse's default `onError` handlers: one throwing subscriber
 * over 2,000 events prints one stack and a count, not 2,000 stacks.
 *
 * @example
 * ```ts
 * const log = createErrorLog({ intervalMs: 10_000 });
 * log('handler:TypeError', '[repopulse] bus handler error on repo:1:', error);
 * ```
 */
export function createErrorLog(options: ErrorLogOptions = {}): ErrorLog {
  const intervalMs = options.intervalMs ?? 60_000;
  const write =
    options.write ?? ((message, error) => console.error(message, ...(error === undefined ? [] : [error])));
  const now = options.now ?? Date.now;
  const windows = new Map<string, { until: number; suppressed: number }>();
  return (key, message, error) => {
    const at = now();
    const window = windows.get(key);
    if (window && at < window.until) {
      window.suppressed++;
      return;
    }
    const suppressed = window?.suppressed ?? 0;
    windows.set(key, { until: at + intervalMs, suppressed: 0 });
    if (windows.size > 1000) windows.delete(windows.keys().next().value as string);
    const note =
      suppressed > 0
        ? ` (${suppressed} more like it suppressed in the last ${Math.round(intervalMs / 1000)} s)`
        : '';
    write(`${message}${note}`, error);
  };
}

/**
 * The key {@link ErrorLog} groups by for an error: `source:code` for errors with a string `code`,
 * `source:Name` otherwise.
 */
export function errorLogKey(source: string, error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') return `${source}:${code}`;
  return `${source}:${error instanceof Error ? error.name : typeof error}`;
}
