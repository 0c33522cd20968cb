/**
 * Closes `items` spread evenly over `graceMs`: item k of n at `graceMs * k / n` (the first now, the
 * last just before `graceMs`), so clients do not all reconnect in one wave. All at once when
 * `graceMs` is 0 or there is at most one.
 */
export function closeSpread<T>(items: readonly T[], graceMs: number, close: (item: T) => void): void {
  const n = items.length;
  if (!(graceMs > 0) || n <= 1) {
    for (const item of items) close(item);
    return;
  }
  const startedAt = Date.now();
  let next = 0;
  const step = () => {
    const elapsed = Date.now() - startedAt;
    const due = Math.min(n, Math.floor((elapsed * n) / graceMs) + 1);
    while (next < due) close(items[next++] as T);
    if (next < n) setTimeout(step, Math.max(1, startedAt + (graceMs * next) / n - Date.now()));
  };
  step();
}
