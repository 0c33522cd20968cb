import { BusClosedError, BusUnavailableError, type StreamPosition } from '@repopulse/events-core';

/** Settings of a {@link PublishQueue}. */
export interface PublishQueueOptions {
  /** True while the command connection can take commands now. */
  isReady: () => boolean;
  /** Publishes allowed to wait for the connection at once; more are refused at once. */
  maxPending: number;
  /** Time a publish may take from call to reply, waiting included. */
  timeoutMs: number;
}

type State = 'waiting' | 'sent' | 'done';

interface Pending {
  deadline: number;
  state: State;
  send: () => Promise<StreamPosition>;
  resolve: (position: StreamPosition) => void;
  reject: (error: unknown) => void;
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

  /** Runs `send` now or once the connection is ready, within the timeout. */
  run(send: () => Promise<StreamPosition>): Promise<StreamPosition> {
    const ready = this.options.isReady();
    if (!ready && this.waiting >= this.options.maxPending) {
      return Promise.reject(
        new BusUnavailableError(
          `Redis is unreachable and ${this.waiting} publishes already wait for it (maxPendingPublishes); the event was not stored`,
        ),
      );
    }
    return new Promise<StreamPosition>((resolve, reject) => {
      const item: Pending = {
        deadline: Date.now() + this.options.timeoutMs,
        state: 'waiting',
        send,
        resolve,
        reject,
      };
      this.queue.push(item);
      if (ready) this.dispatch(item);
      else this.waiting++;
      this.arm();
    });
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

  private dispatch(item: Pending): void {
    item.state = 'sent';
    item.send().then(
      (position) => {
        if (item.state === 'done') return;
        item.state = 'done';
        item.resolve(position);
        this.compact();
      },
      (error: unknown) => {
        if (item.state === 'done') return;
        item.state = 'done';
        item.reject(
          new BusUnavailableError(`Redis refused or failed the publish: ${describe(error)}`, {
            cause: error,
          }),
        );
        this.compact();
      },
    );
  }

  private expire(): void {
    this.timer = undefined;
    const now = Date.now();
    for (; this.head < this.queue.length; this.head++) {
      const item = this.queue[this.head]!;
      if (item.state === 'done') continue;
      if (item.deadline > now) break;
      const sent = item.state === 'sent';
      if (!sent) this.waiting--;
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
