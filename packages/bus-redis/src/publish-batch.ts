import type { StreamPosition } from '@repopulse/events-core';
import type { AppendResult } from '@repopulse/events-core/bus-kit';
import type { AppendBatch } from './append-call';
import { idKeysOf } from './keys';
import { decodeEnvelope } from './stream-snapshot';

/**
 * Runs the append script for one batch; resolves with one entry per event, as
 * `decodeAppendReply` gives them.
 */
export type AppendBatchRunner = (batch: AppendBatch) => Promise<unknown[]>;

/** Settings of a {@link PublishBatcher}. */
export interface PublishBatcherOptions {
  /** Sends one batch (the script call). */
  run: AppendBatchRunner;
  /** `XADD MAXLEN ~` argument. */
  maxLength: number;
  /** Age limit argument in ms (0 = none). */
  ttlMs: number;
  /**
   * Which batch a key may share: keys of one group go into one script call. A standalone Redis
   * takes any keys in one call; a Redis Cluster only keys of one slot.
   * @default every key in one group
   */
  groupOf?: (key: string) => string;
}

/** One publish in a batch: where it goes, what it is, and whom to tell how it went. */
export interface BatchItem {
  /** The topic's stream key. */
  readonly key: string;
  /** The event id. */
  readonly id: string;
  /** The envelope JSON. */
  readonly json: string;
  /**
   * Called once with the position Redis stored the event at, or with the event already stored
   * under its id (nothing was stored or announced).
   */
  stored(result: AppendResult): void;
  /** Called once when Redis refused the event or the script call failed. */
  failed(error: unknown): void;
  /** Called with the bytes the envelope JSON is sent as (UTF-8, `bytes` from `start` to `end`). */
  written?(bytes: Buffer, start: number, end: number): void;
}

/** Most events in one script call: bounds how long one call holds Redis. */
export const MAX_BATCH_EVENTS = 256;
/** Most envelope bytes (UTF-16 units, close enough) in one script call. */
export const MAX_BATCH_CHARS = 1 << 20;

/**
 * Joins the publishes of one tick into as few append-script calls as possible (up to
 * {@link MAX_BATCH_EVENTS} events each; a full batch is sent at once, the rest at the end of the
 * tick), in call order: Redis runs one script per batch instead of one per event, ioredis
 * builds one command, and a topic's subscribers receive one Pub/Sub message per batch. Each
 * publish still gets its own outcome (its position, or the error Redis gave it).
 */
export class PublishBatcher {
  private groups = new Map<string, { items: BatchItem[]; chars: number }>();
  private scheduled = false;
  private readonly groupOf: (key: string) => string;

  constructor(private readonly options: PublishBatcherOptions) {
    this.groupOf = options.groupOf ?? (() => '');
  }

  /** Queues one event for the next batch of its group; the item hears how it went. */
  add(item: BatchItem): void {
    const name = this.groupOf(item.key);
    let group = this.groups.get(name);
    if (!group) {
      group = { items: [], chars: 0 };
      this.groups.set(name, group);
    }
    group.items.push(item);
    group.chars += item.json.length;
    // A full batch goes out at once, so Redis works on it while the rest of the tick is prepared.
    if (group.items.length >= MAX_BATCH_EVENTS || group.chars >= MAX_BATCH_CHARS) {
      this.groups.delete(name);
      this.send(group.items);
    } else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flushNow);
    }
  }

  private readonly flushNow = () => this.flush();

  private flush(): void {
    this.scheduled = false;
    const groups = this.groups;
    this.groups = new Map();
    for (const group of groups.values()) this.send(group.items);
  }

  private send(batch: BatchItem[]): void {
    const keys: string[] = [];
    const index = new Map<string, number>();
    const streams = new Array<number>(batch.length);
    let lastKey: string | undefined;
    let k = 0;
    for (let i = 0; i < batch.length; i++) {
      const key = batch[i]!.key;
      if (key !== lastKey) {
        lastKey = key;
        k = index.get(key) ?? 0;
        if (k === 0) {
          // The stream, then its id hash and id list: the script finds them at k, k + 1, k + 2.
          k = keys.push(key, ...idKeysOf(key)) - 2;
          index.set(key, k);
        }
      }
      streams[i] = k;
    }
    const { maxLength, ttlMs } = this.options;
    this.options.run({ keys, streams, items: batch, maxLength, ttlMs }).then(
      (results) => settle(batch, results),
      (error: unknown) => {
        for (const item of batch) item.failed(error);
      },
    );
  }
}

function settle(batch: BatchItem[], results: unknown[]): void {
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i]!;
    const result = results[i];
    if (typeof result === 'string' && result.length > 0 && result[0] !== '!') {
      item.stored(result as StreamPosition);
    } else if (Array.isArray(result) && result.length === 2) {
      // The id was already retained: the stored event's position and envelope JSON.
      item.stored({ position: result[0] as StreamPosition, event: decodeEnvelope(String(result[1])) });
    } else {
      item.failed(new Error(typeof result === 'string' ? result.slice(1) : 'no reply for this event'));
    }
  }
}
