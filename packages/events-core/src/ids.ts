const ENCODING = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;

let lastTime = -1;
/** The 16 random digits (0–31) of the last id; incremented for the next id in the same ms. */
const lastRandom = new Uint8Array(16);
/** The last id but its final character: `lastTime` encoded and the first 15 random digits. */
let lastPrefix = '';

function encodeTime(ms: number): string {
  let time = '';
  let t = ms;
  for (let i = 0; i < 10; i++) {
    time = ENCODING[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time;
}

function makePrefix(ms: number): string {
  let prefix = encodeTime(ms);
  for (let i = 0; i < lastRandom.length - 1; i++) prefix += ENCODING[lastRandom[i] ?? 0];
  return prefix;
}

/**
 * A new ULID: 26 Crockford base-32 characters, lexicographically sortable by creation time and
 * monotonic within one millisecond in this process (and when the clock goes back). Used for
 * envelope `id`s.
 *
 * @param ms - The time to encode, in ms since epoch; floored. A value outside ULID's 48-bit
 * range (or NaN) falls back to `Date.now()`. @default Date.now()
 *
 * @example
 * ```ts
 * newEventId(); // '01JDX3V6Q8W4ZB1C2D3E4F5G6H'
 * ```
 */
export function newEventId(ms: number = Date.now()): string {
  // ULID time is a 48-bit integer of milliseconds; anything else (NaN, fractions, negatives,
  // beyond year 10889) would produce a malformed id, so it falls back to the clock.
  let now = Math.floor(ms);
  if (!(now >= 0 && now <= MAX_TIME)) now = Date.now();
  if (now <= lastTime) {
    // Same (or an earlier) millisecond: the last random digits plus one, so ids stay sortable.
    let i = lastRandom.length - 1;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i >= 0) lastRandom[i] = (lastRandom[i] ?? 0) + 1;
    // A carry changed the first 15 digits too; usually only the last one changes.
    if (i < lastRandom.length - 1) lastPrefix = makePrefix(lastTime);
  } else {
    globalThis.crypto.getRandomValues(lastRandom);
    for (let i = 0; i < lastRandom.length; i++) lastRandom[i] = (lastRandom[i] ?? 0) % 32;
    lastTime = now;
    lastPrefix = makePrefix(now);
  }
  return lastPrefix + ENCODING[lastRandom[lastRandom.length - 1] ?? 0];
}
