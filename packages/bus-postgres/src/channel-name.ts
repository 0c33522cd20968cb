import { createHash } from 'node:crypto';

/**
 * The LISTEN/NOTIFY channel of `topic` in `schema`: `rp_` and 24 hex digits of a hash of both, so
 * any topic (up to 256 characters) fits Postgres's 63-byte channel names and two schemas on one
 * database never wake each other. A notification's payload is a position (the last one its transaction
 * appended, or a drop's): it says "read this topic if you have not delivered up to here".
 */
export function channelOf(schema: string, topic: string): string {
  return `rp_${createHash('sha256').update(`${schema}\u0000${topic}`).digest('hex').slice(0, 24)}`;
}
