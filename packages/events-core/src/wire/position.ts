import { BusError } from '../errors';

/**
 * A position in a topic's ordered log: `<ms>-<seq>`, the Redis stream id format. Both parts are
 * non-negative integers; positions compare numerically, milliseconds first.
 */
export type StreamPosition = `${number}-${number}`;

/** The parsed parts of a {@link StreamPosition}. */
export interface PositionParts {
  /** Milliseconds since epoch. */
  ms: number;
  /** Sequence number within the millisecond. */
  seq: number;
}

/** The position before any event of any topic: subscribing `after` it asks for everything. */
export const ZERO_POSITION: StreamPosition = '0-0';

const POSITION_RE = /^(0|[1-9]\d{0,15})-(0|[1-9]\d{0,15})$/;

/**
 * Parses `<ms>-<seq>`; returns `undefined` for anything malformed (never throws).
 *
 * @example
 * ```ts
 * parsePosition('1700000000000-3'); // { ms: 1700000000000, seq: 3 }
 * parsePosition('nope'); // undefined
 * ```
 */
export function parsePosition(value: unknown): PositionParts | undefined {
  if (typeof value !== 'string') return undefined;
  const match = POSITION_RE.exec(value);
  if (!match) return undefined;
  const ms = Number(match[1]);
  const seq = Number(match[2]);
  if (!Number.isSafeInteger(ms) || !Number.isSafeInteger(seq)) return undefined;
  return { ms, seq };
}

/** True when `value` is a well-formed {@link StreamPosition}. */
export function isPosition(value: unknown): value is StreamPosition {
  return parsePosition(value) !== undefined;
}

/** Formats parts as `<ms>-<seq>`. */
export function formatPosition(parts: PositionParts): StreamPosition {
  return `${parts.ms}-${parts.seq}`;
}

/**
 * Orders two well-formed positions: negative when `a` is earlier, 0 when equal, positive when later.
 * Throws `BusError('invalid_position')` for a malformed one: check untrusted input with {@link isPosition} first.
 */
export function comparePositions(a: StreamPosition | string, b: StreamPosition | string): number {
  const pa = parsePosition(a);
  const pb = parsePosition(b);
  if (!pa || !pb) {
    throw new BusError('invalid_position', `malformed stream position: ${JSON.stringify(pa ? b : a)}`);
  }
  return pa.ms === pb.ms ? pa.seq - pb.seq : pa.ms - pb.ms;
}

/**
 * The next position after `last` at time `nowMs`: `<nowMs>-0` when the clock moved on,
 * else `<last.ms>-<last.seq + 1>` (also when the clock went backwards), so positions issued
 * in sequence are strictly increasing. `nowMs` is floored; a clock reading that is not a safe
 * integer (NaN, Infinity) counts as 0, i.e. "no progress".
 */
export function nextPosition(last: StreamPosition | undefined, nowMs: number): StreamPosition {
  const prev = last ? parsePosition(last) : undefined;
  const ms = Number.isSafeInteger(Math.floor(nowMs)) ? Math.max(0, Math.floor(nowMs)) : 0;
  if (!prev || ms > prev.ms) return `${ms}-0`;
  return `${prev.ms}-${prev.seq + 1}`;
}

const WELL_FORMED = /^(0|[1-9]\d*)-(0|[1-9]\d*)$/;

/**
 * True when `position` comes after `last`, numerically, milliseconds first, without parsing
 * (digits are compared, so it is cheap enough for every delivered event). `''` as `last` (no
 * position yet) is before everything; a `position` or `last` of any other shape counts as "after",
 * so an event of an unknown server is delivered, never dropped. Never throws: use
 * {@link comparePositions} to reject malformed positions instead.
 *
 * @example
 * ```ts
 * isAfter('10-0', '9-0'); // true: numeric, not lexical
 * isAfter('1-0', ''); // true
 * isAfter('1-0', '1-0'); // false
 * ```
 */
export function isAfter(position: string, last: string): boolean {
  if (position === last) return false;
  if (!last || !WELL_FORMED.test(position) || !WELL_FORMED.test(last)) return true;
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
