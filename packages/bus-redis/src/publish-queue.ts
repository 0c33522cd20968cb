import { BusClosedError, BusUnavailableError } from '@repopulse/events-core';
import type { AppendResult } from '@repopulse/events-core/bus-kit';
import type { BatchItem } from './publish-batch';

/** Settings of a {@link PublishQueue}. */
export interface PublishQueueOptions {
  /** Sends one publish (hands it to the batcher); the item hears how it went. */
  send: (item: BatchItem) => void;
  /** True while the command connection can take commands now. */
  isReady: () => boolean;
  /** Publishes allowed to wait for the connection at once; more are refused at once. */
  maxPending: number;
  /** Time a publish may take from call to reply, waiting included. */
  timeoutMs: number;
}

type State = 'waiting' | 'sent' | 'done';

/** Hears what becomes of a publish on its way to Redis. */
export interface PublishWatcher {
  /** Its envelope JSON is sent as the UTF-8 `bytes` from `start` to `end`. */
  written(bytes: Buffer, start: number, end: number): void;
  /** It stored nothing new (it failed, or its id was already stored). */
  notAnnounced(): void;
}

/** One publish from call to outcome; it is also the item its batch reports to. */
class Pending implements BatchItem {
  state: State = 'waiting';
  /** Settle the publish's promise; set by {@link Pending.promise} as it makes it. */
  resolve!: (position: AppendResult) => void;
  reject!: (error: unknown) => void;

  constructor(
    private readonly queue: PublishQueue,
    readonly key: string,
    readonly id: string,
    readonly json: string,
    readonly deadline: number,
    readonly watcher: PublishWatcher | undefined,
  ) {}

  /**
   * The publish's promise, made with a shared executor instead of a closure per publish (a
   * function and its context fewer on the heap for every publish in flight).
   */
  promise(): Promise<AppendResult> {
    adopting = this;
    return new Promise(adopt);
  }

  written(bytes: Buffer, start: number, end: number): void {
    this.watcher?.written(bytes, start, end);
  }

  stored(result: AppendResult): void {
    if (this.state === 'done') return;
    this.state = 'done';
    if (typeof result !== 'string') this.watcher?.notAnnounced();
    this.resolve(result);
    this.queue.settled();
  }

  failed(error: unknown): void {
    if (this.state === 'done') return;
    this.state = 'done';
    this.watcher?.notAnnounced();
    this.reject(
      new BusUnavailableError(`Redis refused or failed the publish: ${describe(error)}`, { cause: error }),
    );
    this.queue.settled();
  }
}

/** The item {@link adopt} hands its resolving functions to (the executor runs at once). */
let adopting: Pending | undefined;

function adopt(resolve: (position: AppendResult) => void, reject: (error: unknown) => void): void {
  const item = adopting as Pending;
  adopting = undefined;
  item.resolve = resolve;
  item.reject = reject;
}

/**
 * Bounds publishes against an unreachable Redis, without a timer per publish.
 *
 * A publish is sent at once while the connection is ready; otherwise it waits here (never in
 * ioredis's offline queue), so one that times out is dropped before it is ever sent: its
 * publisher is told it was not stored, and it never will be. At most `maxPending` wait; more
 * are refused at once. A publish sent but not answered within the bound is rejected too, with
 * a message saying the outcome is unknown (Redis may have stored it before going silent).
 *
 * Every publish gets the same timeout, so deadlines are in call order: one timer, armed for
 * the oldest unsettled publish, serves all of them.
 */
export class PublishQueue {
  private queue: Pending[] = [];
  private head = 0;
  private waiting = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = 0;

  constructor(private readonly options: PublishQueueOptions) {}

  /** Publishes waiting for the connection. */
  get pending(): number {
    return this.waiting;
  }

  /**
   * Sends one event (`key`, `id`, `json`) now or once the connection is ready, within the
   * timeout. `watcher` hears the bytes it is sent as, and when it stores nothing new.
   */
  run(key: string, id: string, json: string, watcher?: PublishWatcher): Promise<AppendResult> {
    const ready = this.options.isReady();
    if (!ready && this.waiting >= this.options.maxPending) {
      return Promise.reject(
        new BusUnavailableError(
          `Redis is unreachable and ${this.waiting} publishes already wait for it (maxPendingPublishes); the event was not stored`,
        ),
      );
    }
    const item = new Pending(this, key, id, json, Date.now() + this.options.timeoutMs, watcher);
    const promise = item.promise();
    try {
      this.queue.push(item);
      if (ready) this.dispatch(item);
      else this.waiting++;
      this.arm();
    } catch (error) {
      // As a throw in a promise's executor would: the publish rejects.
      item.reject(error);
    }
    return promise;
  }

  /** Sends every waiting publish, oldest first; call when the connection becomes ready. */
  flush(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (item.state !== 'waiting') continue;
      if (!this.options.isReady()) return;
      this.waiting--;
      this.dispatch(item);
    }
  }

  /** Rejects every publish still waiting (never sent) with `BusClosedError`. */
  close(): void {
    for (let i = this.head; i < this.queue.length; i++) {
      const item = this.queue[i]!;
      if (item.state !== 'waiting') continue;
      this.waiting--;
      item.state = 'done';
      item.reject(new BusClosedError('the bus was closed before the event could be stored'));
    }
    this.compact();
  }

  /** Called by an item once it has its outcome. */
  settled(): void {
    this.compact();
  }

  private dispatch(item: Pending): void {
    item.state = 'sent';
    this.options.send(item);
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (; this.head < this.queue.length; this.head++) {
      const item = this.queue[this.head]!;
      if (item.state === 'done') continue;
      if (item.deadline > now) break;
      const sent = item.state === 'sent';
      if (!sent) {
        this.waiting--;
        item.watcher?.notAnnounced();
      }
      item.state = 'done';
      item.reject(
        new BusUnavailableError(
          sent
            ? `no reply from Redis within ${this.options.timeoutMs} ms; the event may or may not have been stored`
            : `Redis stayed unreachable for ${this.options.timeoutMs} ms; the event was not stored`,
        ),
      );
    }
    this.compact();
  }

  /** Drops settled items from the front; arms the timer for the oldest unsettled one. */
  private compact(): void {
    while (this.head < this.queue.length && this.queue[this.head]!.state === 'done') this.head++;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.arm();
  }

  private arm(): void {
    const oldest = this.queue[this.head];
    if (!oldest) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      return;
    }
    if (this.timer && this.timerAt <= oldest.deadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = oldest.deadline;
    this.timer = setTimeout(() => this.expire(), Math.max(0, oldest.deadline - Date.now()));
    this.timer.unref?.();
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
