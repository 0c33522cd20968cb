/** What {@link copyJsonData} returns for a value it does not copy itself. */
export const NOT_PLAIN: unique symbol = Symbol('not plain JSON data');

const MAX_DEPTH = 64;

/**
 * A deep copy of `value` equal to `JSON.parse(JSON.stringify(value))`, made without the JSON
 * round trip, for plain JSON data: plain objects (keys in `Object.keys` order, `undefined` members
 * left out as JSON leaves them out), arrays, strings, finite numbers, booleans and `null`. For
 * anything JSON would change or refuse (`toJSON`, class instances, `-0`, `NaN`, `undefined` in an
 * array, a `__proto__` key, bigints, cycles, more than 64 levels) it returns {@link NOT_PLAIN},
 * and the caller takes the JSON round trip instead.
 */
export function copyJsonData(value: unknown, depth = 0): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0) ? value : NOT_PLAIN;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return null;
  if (depth >= MAX_DEPTH) return NOT_PLAIN;
  const proto = Object.getPrototypeOf(value);
  if (proto === Array.prototype && Array.isArray(value)) {
    const source = value as unknown[];
    const copy = new Array<unknown>(source.length);
    for (let i = 0; i < source.length; i++) {
      const item = copyJsonData(source[i], depth + 1);
      if (item === NOT_PLAIN || item === undefined) return NOT_PLAIN;
      copy[i] = item;
    }
    return copy;
  }
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const source = value as Record<string, unknown>;
  if (typeof source.toJSON === 'function') return NOT_PLAIN;
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(source)) {
    const member = source[key];
    if (member === undefined) continue;
    if (key === '__proto__') return NOT_PLAIN;
    const item = copyJsonData(member, depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    copy[key] = item;
  }
  return copy;
}
