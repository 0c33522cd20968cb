import type { StreamPosition } from '../position';

/**
 * True when `position` comes after `last`. Both are well-formed (the store issued them, or
 * `isPosition` checked them), so this compares the digits without parsing: a longer number is
 * larger, numbers of equal length compare like strings (no leading zeros).
 */
export function follows(position: StreamPosition, last: StreamPosition): boolean {
  if (position === last) return false;
  const p = position.indexOf('-');
  const l = last.indexOf('-');
  if (p !== l) return p > l;
  for (let i = 0; i < p; i++) {
    const d = position.charCodeAt(i) - last.charCodeAt(i);
    if (d !== 0) return d > 0;
  }
  const ps = position.length - p;
  const ls = last.length - l;
  if (ps !== ls) return ps > ls;
  return position > last;
}
