/**
 * A small seeded PRNG (mulberry32): numbers in [0, 1), the same sequence for the same seed, so a
 * failing random run can be replayed from its seed.
 *
 * @example
 * ```ts
 * const random = prng(42);
 * const pick = Math.floor(random() * items.length);
 * ```
 */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
