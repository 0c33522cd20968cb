const MAX_SHOWN = 40;

/**
 * A short rendering of a rejected value for error messages: strings quoted (and cut at 40
 * characters), numbers, booleans and `null` as written, other values by kind (`an object`,
 * `an array`).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
