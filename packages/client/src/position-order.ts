/**
 * True when stream position `a` comes after `b`. Positions are `<ms>-<seq>` and compare
 * numerically, milliseconds first; `''` (no position yet) is before everything. A position of any
 * other shape counts as "after", so an unknown server's events are delivered, never dropped.
 */
export function isAfter(a: string, b: string): boolean {
  if (!b) return true;
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  // Written so that NaN (a malformed part) yields true.
  return am === bm ? !(as <= bs) : !(am < bm);
}
