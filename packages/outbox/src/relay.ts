import type { EventBus, StreamPosition } from '@repopulse/events-core';
import { validatedEnvelopeFromJson } from '@repopulse/events-core/bus-kit';
import { comparePositions } from '@repopulse/events-core/wire';
import { OutboxError } from './outbox-error';
import { refusedForGood, wasDuplicate } from './publish-outcome';
import { RetryDelay } from './retry-delay';
import type { OutboxStore, PendingRow, RelayLease } from './store';

/** What the relay needs from the outbox's options, with defaults applied. */
export interface RelaySettings {
  batchSize: number;
  maxInFlight: number;
  retryMinMs: number;
  retryMaxMs: number;
  sweepMs: number;
  keepDeliveredMs: number;
  report: (error: OutboxError) => void;
}

/** One topic being drained. */
interface TopicDrain {
  /** Set by a wake-up during the drain: read again before stopping. */
  again: boolean;
  /** Publishes in flight at once: `maxInFlight`, or 1 after a failure until the next success. */
  window: number;
  /** The last position the bus gave this topic, to notice a reorder. */
  last: StreamPosition | undefined;
  /** Settles when the drain loop ends. */
  done: Promise<void>;
}

const ALWAYS_HELD: RelayLease = { held: true, release: async () => {} };

/**
 * Forwards committed rows to the bus, per topic in id (= commit) order, while this process holds
 * the store's lease. One drain loop per topic with pending rows; none when idle (a wake-up starts
 * one, the slow sweep is the fallback).
 */
export class Relay {
  private readonly drains = new Map<string, TopicDrain>();
  private readonly retry: RetryDelay;
  private lease: RelayLease | undefined;
  private leaseLost: (() => void) | undefined;
  private unwatch: (() => Promise<void>) | undefined;
  private sweepTimer: ReturnType<typeof setInterval> | undefined;
  private scanning = false;
  private rescan = false;
  private closed = false;
  private closeSignal: () => void = () => {};
  private readonly closing = new Promise<void>((resolve) => {
    this.closeSignal = resolve;
  });
  private readonly sleepers = new Set<() => void>();
  private running: Promise<void> | undefined;
  /** Events this relay published (duplicates the bus already held included). */
  delivered = 0;
  /** Of those, events the bus already held (published again after a crash or a lost lease). */
  duplicates = 0;

  constructor(
    private readonly store: OutboxStore<never>,
    private readonly bus: EventBus,
    private readonly settings: RelaySettings,
  ) {
    this.retry = new RetryDelay(settings.retryMinMs, settings.retryMaxMs);
  }

  /** True while this process holds the lease and relays. */
  get relaying(): boolean {
    return this.lease?.held === true && !this.closed;
  }

  /** True while the bus is failing (between a failed publish and the next success). */
  get retrying(): boolean {
    return this.retry.failing;
  }

  /** Topics being drained now. */
  get activeTopics(): number {
    return this.drains.size;
  }

  /** Starts leading (or waiting for the lease) and the fallback sweep. */
  start(): void {
    this.running = this.lead();
    this.sweepTimer = setInterval(() => this.sweep(), this.settings.sweepMs);
    this.sweepTimer.unref?.();
  }

  /** Drains `topic`, or every topic with pending rows when none is named. */
  wake(topic?: string): void {
    if (!this.relaying) return;
    if (topic === undefined) {
      this.scan();
      return;
    }
    const drain = this.drains.get(topic);
    if (drain) drain.again = true;
    else void this.drain(topic);
  }

  /** Stops relaying: in-flight publishes finish, their rows are marked, the lease is released. */
  async close(): Promise<void> {
    if (this.closed) return this.running;
    this.closed = true;
    this.closeSignal();
    for (const wakeUp of this.sleepers) wakeUp();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.leaseLost?.();
    await this.running;
  }

  private async lead(): Promise<void> {
    while (!this.closed) {
      try {
        const lost = new Promise<void>((resolve) => {
          this.leaseLost = resolve;
        });
        this.lease = this.store.lead ? await this.leadOrClose(this.leaseLost as () => void) : ALWAYS_HELD;
        if (!this.lease) return;
        // Watching starts before the first scan, which it may already report to; waited for after it.
        const watching = this.unwatch ? undefined : this.store.watch?.((t) => this.wake(t));
        this.retry.succeeded();
        this.wake();
        if (watching) this.unwatch = await watching;
        await Promise.race([lost, this.closing]);
      } catch (error) {
        this.settings.report(
          new OutboxError('store_failed', `relay could not lead: ${message(error)}`, { cause: error }),
        );
        await this.sleep(this.retry.failed());
      }
      await this.waitForDrains();
      if (this.lease && this.lease !== ALWAYS_HELD) await this.lease.release().catch(() => {});
      this.lease = undefined;
    }
    await this.unwatch?.().catch(() => {});
  }

  /** The lease, or `undefined` when the outbox closed while waiting for it (the wait is aborted). */
  private async leadOrClose(lost: () => void): Promise<RelayLease | undefined> {
    const abort = new AbortController();
    const leading = (this.store.lead as NonNullable<OutboxStore['lead']>)(lost, abort.signal);
    const winner = await Promise.race([leading, this.closing.then(() => undefined)]);
    if (winner) return winner;
    abort.abort();
    void leading.then((lease) => lease.release()).catch(() => {});
    return undefined;
  }

  private async waitForDrains(): Promise<void> {
    while (this.drains.size > 0) await Promise.race([...this.drains.values()].map((d) => d.done));
  }

  private sweep(): void {
    this.wake();
    if (this.settings.keepDeliveredMs > 0 && this.relaying) {
      this.store.prune(Date.now() - this.settings.keepDeliveredMs).catch((error) => {
        this.settings.report(
          new OutboxError('store_failed', `pruning failed: ${message(error)}`, { cause: error }),
        );
      });
    }
  }

  private scan(): void {
    if (this.scanning) {
      this.rescan = true;
      return;
    }
    this.scanning = true;
    this.rescan = false;
    this.store
      .pendingTopics()
      .then((topics) => {
        for (const topic of topics) this.wake(topic);
      })
      .catch((error) => {
        this.settings.report(
          new OutboxError('store_failed', `reading pending topics failed: ${message(error)}`, {
            cause: error,
          }),
        );
      })
      .finally(() => {
        this.scanning = false;
        if (this.rescan) this.scan();
      });
  }

  private drain(topic: string): Promise<void> {
    const state: TopicDrain = {
      again: false,
      window: this.settings.maxInFlight,
      last: undefined,
      done: Promise.resolve(),
    };
    state.done = this.drainLoop(topic, state).finally(() => this.drains.delete(topic));
    this.drains.set(topic, state);
    return state.done;
  }

  private async drainLoop(topic: string, state: TopicDrain): Promise<void> {
    await Promise.resolve(); // registered in `drains` before the first read
    while (this.relaying) {
      state.again = false;
      let rows: PendingRow[];
      try {
        rows = await this.store.pending(topic, this.settings.batchSize);
      } catch (error) {
        this.settings.report(
          new OutboxError('store_failed', `reading ${topic} failed: ${message(error)}`, {
            topic,
            cause: error,
          }),
        );
        await this.sleep(this.retry.failed());
        continue;
      }
      if (rows.length === 0) {
        if (state.again) continue;
        return;
      }
      try {
        if (!(await this.publishRows(topic, rows, state))) await this.sleep(this.retry.failed());
        // A short read was the whole backlog; a commit since then has woken this drain (`again`).
        else if (rows.length < this.settings.batchSize && !state.again) return;
      } catch (error) {
        // Marking failed: the rows are published but not marked; the next read publishes them
        // again and the bus, holding their ids, stores nothing twice.
        this.settings.report(
          new OutboxError('store_failed', `marking rows of ${topic} failed: ${message(error)}`, {
            topic,
            cause: error,
          }),
        );
        await this.sleep(this.retry.failed());
      }
    }
  }

  /**
   * Publishes `rows` window by window; false when the bus failed (retry after a delay). Rows are
   * marked once per batch (or before a refused or failed one), one range per statement: a crash
   * before the mark publishes them again, and the bus, holding their ids, stores nothing twice.
   */
  private async publishRows(topic: string, rows: PendingRow[], state: TopicDrain): Promise<boolean> {
    let runFirst: number | undefined;
    let runLast = 0;
    const flush = async () => {
      if (runFirst === undefined) return;
      const first = runFirst;
      runFirst = undefined;
      await this.store.markDelivered(topic, first, runLast, this.settings.keepDeliveredMs === 0);
    };
    for (let start = 0; start < rows.length; ) {
      if (!this.relaying) break;
      const window = rows.slice(start, start + state.window);
      // Issued in one tick: a bus that joins a tick's publishes into one append stores all or none.
      const outcomes = await Promise.allSettled(window.map((row) => this.publish(topic, row)));
      for (let i = 0; i < window.length; i++) {
        const row = window[i] as PendingRow;
        const outcome = outcomes[i] as PromiseSettledResult<Awaited<ReturnType<EventBus['publish']>>>;
        if (outcome.status === 'fulfilled') {
          this.noteOrder(topic, row, outcome.value, state);
          this.delivered++;
          runFirst ??= row.id;
          runLast = row.id;
          continue;
        }
        const reason = outcome.reason;
        if (refusedForGood(reason)) {
          await flush();
          await this.store.markFailed(topic, row.id, message(reason));
          this.settings.report(
            new OutboxError(
              'event_refused',
              `the bus refused the event of row ${row.id} on ${topic} for good (${message(reason)}); it is kept, marked failed, and ${topic} goes on with its next event`,
              { topic, rowId: row.id, cause: reason },
            ),
          );
          continue;
        }
        await flush();
        state.window = 1;
        this.settings.report(
          new OutboxError('publish_failed', `publishing to ${topic} failed, retrying: ${message(reason)}`, {
            topic,
            rowId: row.id,
            cause: reason,
          }),
        );
        return false;
      }
      this.retry.succeeded();
      state.window = this.settings.maxInFlight;
      start += window.length;
    }
    await flush();
    return true;
  }

  /**
   * Publishes a row's event: the text `enqueue` validated and stored, sealed as it is, so the bus
   * stores that text without validating it again.
   */
  private publish(topic: string, row: PendingRow): ReturnType<EventBus['publish']> {
    try {
      return this.bus.publish(topic, validatedEnvelopeFromJson(row.event));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private noteOrder(topic: string, row: PendingRow, result: { position: StreamPosition }, state: TopicDrain) {
    if (wasDuplicate(result)) {
      this.duplicates++;
      return;
    }
    if (state.last !== undefined && comparePositions(result.position, state.last) <= 0) {
      this.settings.report(
        new OutboxError(
          'order_violated',
          `row ${row.id} on ${topic} was stored at ${result.position}, not after ${state.last}`,
          { topic, rowId: row.id },
        ),
      );
    }
    state.last = result.position;
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
