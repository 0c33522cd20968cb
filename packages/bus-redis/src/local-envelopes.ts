import type { AnyEnvelope } from '@repopulse/events-core';
import { writeUtf8 } from './buffer-text';

/** Most envelopes a {@link LocalEnvelopes} holds; past it, it starts over (those messages are parsed). */
export const LOCAL_ENVELOPES_LIMIT = 4096;

/** How far past the oldest expected envelope of a topic a message line is looked for. */
const LOOKAHEAD = 64;

/** One envelope this process is publishing, until its line in a live message comes back. */
export class ExpectedEnvelope {
  constructor(
    /** The envelope's JSON text; empty once it will never be announced. */
    public json: string,
    readonly envelope: AnyEnvelope,
  ) {}

  /**
   * Bytes of {@link ExpectedEnvelope.json} in UTF-8, once they were written to Redis (see
   * {@link ExpectedEnvelope.written}) or a line was compared with it; -1 before.
   */
  byteLength = -1;
  /** Where the JSON's UTF-8 bytes were written for Redis (from {@link ExpectedEnvelope.start}), once they were. */
  bytes: Buffer | undefined;
  start = 0;

  /**
   * Its JSON went to Redis as `bytes` from `start` to `end`: a line is compared with those
   * bytes, instead of encoding the JSON again.
   */
  written(bytes: Buffer, start: number, end: number): void {
    this.bytes = bytes;
    this.start = start;
    this.byteLength = end - start;
  }

  /** Its publish stored nothing new (refused, failed, or a duplicate): no line will carry it. */
  notAnnounced(): void {
    this.json = '';
    this.bytes = undefined;
  }
}

interface TopicQueue {
  entries: ExpectedEnvelope[];
  head: number;
}

/**
 * Envelopes this process is publishing to topics it has subscribers for, per topic in publish
 * order, until their live message comes back: a line carrying the same JSON is delivered with the
 * envelope the publish already validated and parsed, instead of parsing it again. Equal JSON is an
 * equal envelope, so the result is the same as parsing; only the work is saved. Bounded, and a miss
 * costs nothing but the parse.
 *
 * Redis announces a topic's events in the order they were stored, which is the order this process
 * sent them: a line is compared (in full, as bytes, without decoding it) with the oldest expected
 * envelope of its topic first, and with the next few when that one never came (its publish stored
 * nothing, or its message was lost). It is compared with the UTF-8 bytes the envelope's JSON was
 * sent to Redis as (see {@link ExpectedEnvelope.written}), so the JSON is not encoded a second time.
 * No hashing; for a line of another process, no more than a few length comparisons.
 */
export class LocalEnvelopes {
  private readonly topics = new Map<string, TopicQueue>();
  private size = 0;

  /** Expects `envelope` (serialized as `json`) on `topic`; the caller tells it when it is not announced. */
  add(topic: string, json: string, envelope: AnyEnvelope): ExpectedEnvelope {
    if (this.size >= LOCAL_ENVELOPES_LIMIT) this.clear();
    let queue = this.topics.get(topic);
    if (!queue) {
      queue = { entries: [], head: 0 };
      this.topics.set(topic, queue);
    }
    const expected = new ExpectedEnvelope(json, envelope);
    queue.entries.push(expected);
    this.size++;
    return expected;
  }

  /**
   * The envelope published to `topic` as the JSON in `line` from `start` to `end` (UTF-8), when it
   * is one this process expects there; the expected envelopes before it are forgotten (they were
   * announced before it or never will be). The line is compared as bytes: it is not decoded.
   */
  take(topic: string, line: Buffer, start: number, end: number): AnyEnvelope | undefined {
    const queue = this.topics.get(topic);
    if (!queue) return undefined;
    const { entries } = queue;
    const last = Math.min(entries.length, queue.head + LOOKAHEAD);
    for (let i = queue.head; i < last; i++) {
      const expected = entries[i]!;
      if (!sameText(expected, line, start, end)) continue;
      this.forget(topic, queue, i + 1);
      return expected.envelope;
    }
    // A head that will never be announced must not hold up the ones after it.
    let head = queue.head;
    while (head < entries.length && entries[head]!.json === '') head++;
    if (head !== queue.head) this.forget(topic, queue, head);
    return undefined;
  }

  /** Forgets everything. */
  clear(): void {
    this.topics.clear();
    this.size = 0;
  }

  private forget(topic: string, queue: TopicQueue, head: number): void {
    this.size -= head - queue.head;
    queue.head = head;
    if (head === queue.entries.length) {
      this.topics.delete(topic);
    } else if (head > 1024 && head * 2 > queue.entries.length) {
      queue.entries = queue.entries.slice(head);
      queue.head = 0;
    }
  }
}

/**
 * Where an expected envelope's JSON is encoded to be compared with a line when its bytes as sent are
 * not known; grown as needed.
 */
let encoded = Buffer.allocUnsafeSlow(1 << 12);

/** True when `line` from `start` to `end` is `expected`'s JSON in UTF-8. */
function sameText(expected: ExpectedEnvelope, line: Buffer, start: number, end: number): boolean {
  const { json, bytes } = expected;
  const length = end - start;
  if (expected.byteLength >= 0) {
    if (expected.byteLength !== length) return false;
  } else if (json.length > length || 3 * json.length < length) {
    // UTF-8 takes 1 to 3 bytes per UTF-16 unit: the text cannot be this line.
    return false;
  }
  if (json === '') return false;
  if (bytes !== undefined)
    return bytes.compare(line, start, end, expected.start, expected.start + length) === 0;
  if (encoded.length < 3 * json.length) encoded = Buffer.allocUnsafeSlow(3 * json.length);
  const written = writeUtf8(encoded, 0, json);
  expected.byteLength = written;
  return written === length && encoded.compare(line, start, end, 0, written) === 0;
}
