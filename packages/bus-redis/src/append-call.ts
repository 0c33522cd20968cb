import type { BatchItem } from './publish-batch';

/** One append-script call's worth of events, as {@link PublishBatcher} hands it to the runner. */
export interface AppendBatch {
  /** The script's KEYS: per topic its stream, then its id hash and id list (see `idKeysOf`). */
  readonly keys: readonly string[];
  /** Per event: the 1-based index in `keys` of its stream (the script's `KEYS[k]`). */
  readonly streams: readonly number[];
  /** The events, in call order. */
  readonly items: readonly BatchItem[];
  /** `XADD MAXLEN ~` argument. */
  readonly maxLength: number;
  /** Age limit argument in ms (0 = none). */
  readonly ttlMs: number;
}

/**
 * The append script's ARGV for `batch` (or only its events at `only`, in that order): MAXLEN,
 * TTL, and every event in one text, three lines each (its stream's index into KEYS, its id, its
 * envelope JSON). Neither an event id (no CR/LF, checked by validation) nor envelope JSON (made by
 * `JSON.stringify`, which escapes every control character) holds a raw newline.
 */
export function appendArguments(batch: AppendBatch, only?: readonly number[]): string[] {
  const { streams, items } = batch;
  let events = '';
  const count = only ? only.length : items.length;
  for (let n = 0; n < count; n++) {
    const i = only ? only[n]! : n;
    const item = items[i]!;
    if (n > 0) events += '\n';
    events += `${streams[i]}\n${item.id}\n${item.json}`;
  }
  return [String(batch.maxLength), String(batch.ttlMs), events];
}

/**
 * The append script's reply as one entry per event: its position; `[position, envelope JSON]`
 * of the event already stored under its id; or `!<error>` when Redis refused it. The script
 * answers with one text of lines followed by the stored JSON of the duplicates (see
 * `APPEND_SCRIPT`); anything else decodes to no entries (each event then fails).
 */
export function decodeAppendReply(reply: unknown): unknown[] {
  if (!Array.isArray(reply) || typeof reply[0] !== 'string') return [];
  const entries: unknown[] = reply[0].split('\n');
  let stored = 1;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i] as string;
    if (entry.charCodeAt(0) === 61 /* = */) entries[i] = [entry.slice(1), reply[stored++]];
  }
  return entries;
}
