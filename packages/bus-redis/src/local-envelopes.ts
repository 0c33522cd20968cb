import type { AnyEnvelope } from '@repopulse/events-core';

/** Most envelopes a {@link LocalEnvelopes} holds; past it, it starts over (those messages are parsed). */
export const LOCAL_ENVELOPES_LIMIT = 4096;

/**
 * Envelopes this process is publishing to topics it has subscribers for, by their JSON text, until
 * their live message comes back: a message carrying the same JSON is delivered with the envelope
 * the publish already validated and parsed, instead of parsing it again. Equal JSON is an equal
 * envelope, so the result is the same as parsing; only the work is saved. Bounded, and a miss
 * costs nothing but the parse.
 */
export class LocalEnvelopes {
  private readonly entries = new Map<string, { envelope: AnyEnvelope; count: number }>();

  /** Remembers `envelope` (serialized as `json`) until its message is taken or dropped. */
  add(json: string, envelope: AnyEnvelope): void {
    const entry = this.entries.get(json);
    if (entry) {
      entry.count++;
      return;
    }
    if (this.entries.size >= LOCAL_ENVELOPES_LIMIT) this.entries.clear();
    this.entries.set(json, { envelope, count: 1 });
  }

  /** The envelope published as `json`, once per {@link add}; `undefined` when it is not one of ours. */
  take(json: string): AnyEnvelope | undefined {
    const entry = this.entries.get(json);
    if (!entry) return undefined;
    if (--entry.count === 0) this.entries.delete(json);
    return entry.envelope;
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}
