import type { AnyEnvelope } from '@repopulse/events-core';

/** Most envelopes a {@link LocalEnvelopes} holds; past it, it starts over (those messages are parsed). */
export const LOCAL_ENVELOPES_LIMIT = 4096;

const ID_PREFIX = '{"id":"';

/**
 * Envelopes this process is publishing to topics it has subscribers for, by their JSON text, until
 * their live message comes back: a message carrying the same JSON is delivered with the envelope
 * the publish already validated and parsed, instead of parsing it again. Equal JSON is an equal
 * envelope, so the result is the same as parsing; only the work is saved. Bounded, and a miss
 * costs nothing but the parse.
 *
 * Entries are found by the event id at the start of the JSON (hashing a short id, not the whole
 * text) and then compared in full, so a different envelope with the same id is never mistaken
 * for one of ours.
 */
export class LocalEnvelopes {
  private readonly entries = new Map<string, { json: string; envelope: AnyEnvelope; count: number }>();

  /** Remembers `envelope` (serialized as `json`) until its message is taken or dropped. */
  add(json: string, envelope: AnyEnvelope): void {
    const key = keyOf(json);
    const entry = this.entries.get(key);
    if (entry?.json === json) {
      entry.count++;
      return;
    }
    if (this.entries.size >= LOCAL_ENVELOPES_LIMIT) this.entries.clear();
    this.entries.set(key, { json, envelope, count: 1 });
  }

  /** The envelope published as `json`, once per {@link add}; `undefined` when it is not one of ours. */
  take(json: string): AnyEnvelope | undefined {
    const key = keyOf(json);
    const entry = this.entries.get(key);
    if (entry?.json !== json) return undefined;
    if (--entry.count === 0) this.entries.delete(key);
    return entry.envelope;
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
  }
}

/** The event id as it starts the JSON of a validated envelope, or the whole text otherwise. */
function keyOf(json: string): string {
  if (!json.startsWith(ID_PREFIX)) return json;
  const end = json.indexOf('"', ID_PREFIX.length);
  return end < 0 ? json : json.slice(ID_PREFIX.length, end);
}
