const ENCODING = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_TIME = 2 ** 48 - 1;

let lastTime = -1;
let lastRandom: number[] = [];

function randomDigits(): number[] {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b % 32);
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
  let random: number[];
  if (now <= lastTime) {
    random = lastRandom.slice();
    let i = random.length - 1;
    while (i >= 0 && random[i] === 31) random[i--] = 0;
    if (i >= 0) random[i] = (random[i] ?? 0) + 1;
    now = lastTime;
  } else {
    random = randomDigits();
  }
  lastTime = now;
  lastRandom = random;
  let time = '';
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ENCODING[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + random.map((d) => ENCODING[d]).join('');
}
