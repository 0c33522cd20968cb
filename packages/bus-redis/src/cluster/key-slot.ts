/** Slots of a Redis Cluster: every key hashes to one of them. */
export const CLUSTER_SLOTS = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
    table[i] = crc & 0xffff;
  }
  return table;
})();

/**
 * The Redis Cluster slot of `key`, as `CLUSTER KEYSLOT` computes it: CRC16 (XMODEM) of the
 * key's hash tag (the text between the first `{` and the next `}`, when not empty), or of the
 * whole key, modulo 16384. Sharded Pub/Sub channels hash the same way.
 *
 * @example
 * ```ts
 * keySlot('repopulse:{repo:42}') === keySlot('repo:42'); // true: only the tag counts
 * ```
 */
export function keySlot(key: string): number {
  let bytes = Buffer.from(key);
  const open = bytes.indexOf(0x7b); // {
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // }
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ CRC16_TABLE[((crc >> 8) ^ byte) & 0xff]!;
  return crc % CLUSTER_SLOTS;
}
