const MAX_SHOWN = 40;

/**
 * A short rendering of a rejected value for error messages: strings quoted (and cut at 40
 * characters), numbers, booleans, `null` and `undefined` as written, other values by kind
 * (`an object`, `an array`, `a function`).
 */
export function describeValue(value: unknown): string {
  if (typeof value === 'string')
    return JSON.stringify(value.length > MAX_SHOWN ? `${value.slice(0, MAX_SHOWN)}…` : value);
  if (value === null || typeof value !== 'object')
    return typeof value === 'function' ? 'a function' : String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}
