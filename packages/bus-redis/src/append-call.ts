import { writeUtf8 } from './buffer-text';
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

/** Reused by every batch to write its events into; the argument itself is a copy of its start. */
let scratch = Buffer.allocUnsafeSlow(1 << 16);
/** Reused by every batch: where each event's JSON starts and ends in the argument. */
let jsonBounds = new Uint32Array(2 * 256);

/**
 * The append script's ARGV for `batch` (or only its events at `only`, in that order): MAXLEN,
 * TTL, and every event in one argument, three lines each (its stream's index into KEYS, its id,
 * its envelope JSON), written as UTF-8 bytes straight from the strings (no joined string on the
 * heap). Neither an event id (no CR/LF, checked by validation) nor envelope JSON (made by
 * `JSON.stringify`, which escapes every control character) holds a raw newline. Each item hears
 * where its JSON is in the argument (`written`), so its line in the live message is compared
 * with those bytes.
 */
export function appendArguments(batch: AppendBatch, only?: readonly number[]): [string, string, Buffer] {
  const { streams, items } = batch;
  const count = only ? only.length : items.length;
  if (jsonBounds.length < 2 * count) jsonBounds = new Uint32Array(2 * count);
  let at = 0;
  for (let n = 0; n < count; n++) {
    const i = only ? only[n]! : n;
    const { id, json } = items[i]!;
    // At most 3 bytes of UTF-8 per UTF-16 unit, plus the index and three newlines.
    const most = at + 3 * (id.length + json.length) + 24;
    if (most > scratch.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(most, 2 * scratch.length));
      scratch.copy(larger, 0, 0, at);
      scratch = larger;
    }
    if (n > 0) scratch[at++] = NEWLINE;
    at += writeIndex(scratch, at, streams[i]!);
    scratch[at++] = NEWLINE;
    at += writeUtf8(scratch, at, id);
    scratch[at++] = NEWLINE;
    jsonBounds[2 * n] = at;
    at += writeUtf8(scratch, at, json);
    jsonBounds[2 * n + 1] = at;
  }
  const events = Buffer.from(scratch.subarray(0, at));
  for (let n = 0; n < count; n++) {
    items[only ? only[n]! : n]!.written?.(events, jsonBounds[2 * n]!, jsonBounds[2 * n + 1]!);
  }
  return [String(batch.maxLength), String(batch.ttlMs), events];
}

const NEWLINE = 0x0a;
const DIGIT_ZERO = 0x30;

/**
 * Writes the index `k` (a KEYS index, 1 or more) as decimal digits at `at`; returns the bytes
 * written. An index below 100 (30 topics in a batch) is written digit by digit.
 */
function writeIndex(out: Buffer, at: number, k: number): number {
  if (k < 10) {
    out[at] = DIGIT_ZERO + k;
    return 1;
  }
  if (k < 100) {
    out[at] = DIGIT_ZERO + Math.floor(k / 10);
    out[at + 1] = DIGIT_ZERO + (k % 10);
    return 2;
  }
  return out.write(String(k), at, 'latin1');
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
