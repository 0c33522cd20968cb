/** Bits in a {@link ForgottenTopics} filter: 8 KiB per bus, allocated when the first topic is let go. */
const BITS = 1 << 16;
/** Bit positions set per topic. */
const HASHES = 3;

/**
 * The names of the topics a memory bus let go (dropped, or every event expired), in a fixed 8 KiB
 * Bloom filter: {@link mightHold} is true for every such topic, and false for almost every other
 * one (below 1 % of other names collide while fewer than ~5,000 topics were let go; more collide as
 * the filter fills, each answered as let go too — a spurious reset, never a silent gap). The bus
 * answers a topic that might have been let go from its floor, and any other as a new topic.
 */
export class ForgottenTopics {
  private bits: Uint8Array | undefined;

  /** Records that `topic` was let go. */
  add(topic: string): void {
    this.bits ??= new Uint8Array(BITS >>> 3);
    const bits = this.bits;
    each(topic, (bit) => {
      bits[bit >>> 3]! |= 1 << (bit & 7);
    });
  }

  /** False when `topic` was certainly never let go; true when it was (or, rarely, its name collides). */
  mightHold(topic: string): boolean {
    const bits = this.bits;
    if (!bits) return false;
    let all = true;
    each(topic, (bit) => {
      if ((bits[bit >>> 3]! & (1 << (bit & 7))) === 0) all = false;
    });
    return all;
  }
}

/** Calls `visit` with the {@link HASHES} bit positions of `topic` (double hashing of two FNV-1a). */
function each(topic: string, visit: (bit: number) => void): void {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < topic.length; i++) {
    const c = topic.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h2 >>> 15);
  }
  h2 |= 1;
  for (let k = 0; k < HASHES; k++) visit((h1 + Math.imul(k, h2)) & (BITS - 1));
}
