import { computeBackoff } from '@repopulse/events-core/bus-kit';
import type { Redis } from 'ioredis';
import { type ChannelRef, ChannelRefs } from './channel-refs';
import type { LiveHub, LiveHubEvents } from './live-hub';

/** Between two rounds of resubscribing after Redis came back: 50 ms doubling to 2 s, equal jitter. */
const RESUBSCRIBE_BACKOFF = { initialMs: 50, maxMs: 2000, jitter: 0.5 };

interface Channel extends ChannelRef {
  /** True while the channel is subscribed on the current connection. */
  subscribed: boolean;
}

/**
 * One Pub/Sub connection shared by all subscriptions of a bus, with reference-counted channels:
 * the first acquire of a channel subscribes, the last release unsubscribes. Changes of one
 * channel run one after another, so concurrent acquire/release never leave it in the wrong
 * state. After a reconnect it resubscribes every wanted channel itself and only then reports
 * `resubscribed`, so a catch-up read that follows cannot miss a message.
 */
export class ChannelHub implements LiveHub {
  private readonly refs = new ChannelRefs<Channel>({
    create: () => ({ refs: 0, subscribed: false, chain: Promise.resolve(), ops: 0 }),
    apply: (channel, entry) => this.apply(channel, entry),
    idle: (entry) => !entry.subscribed,
  });
  private readonly channels = this.refs.entries;
  private wasDown = false;
  private readyWaiters: (() => void)[] = [];
  private resubscribing = false;
  private epoch = 0;
  private closed = false;
  private readonly onMessage = (channel: Buffer, payload: Buffer) =>
    this.events.message(channel.toString(), payload);
  private readonly onCloseListener = () => this.onClose();
  private readonly onReadyListener = () => this.onReady();

  constructor(
    private readonly connection: Redis,
    private readonly events: LiveHubEvents,
  ) {
    connection.on('messageBuffer', this.onMessage);
    connection.on('close', this.onCloseListener);
    connection.on('ready', this.onReadyListener);
  }

  /** Adds a reference to `channel`; resolves once it is subscribed. */
  acquire(channel: string): Promise<void> {
    return this.refs.acquire(channel);
  }

  /** Drops a reference to `channel`; the last one unsubscribes. */
  release(channel: string): Promise<void> {
    return this.refs.release(channel);
  }

  /** Forgets every channel and ends the connection (no UNSUBSCRIBE round trips needed). */
  close(): void {
    this.closed = true;
    this.channels.clear();
    this.connection.off('messageBuffer', this.onMessage);
    this.connection.off('close', this.onCloseListener);
    this.connection.off('ready', this.onReadyListener);
    this.connection.disconnect();
  }

  /** One step that makes the channel's subscription match its reference count. */
  private async apply(channel: string, entry: Channel): Promise<void> {
    if (this.closed) return;
    if (entry.refs > 0 && !entry.subscribed) await this.whenReady();
    if (this.closed) return;
    const want = entry.refs > 0;
    if (want && !entry.subscribed) {
      await this.connection.subscribe(channel);
      entry.subscribed = true;
    } else if (!want && entry.subscribed) {
      entry.subscribed = false;
      await this.connection.unsubscribe(channel);
    }
  }

  /**
   * False from a dropped connection until every wanted channel is subscribed again: messages
   * may have been missed, so no subscription may go live before it has caught up.
   */
  get up(): boolean {
    return !this.wasDown && !this.resubscribing;
  }

  /** {@link ChannelHub.up}: one connection carries every channel. */
  isUp(_channel: string): boolean {
    return this.up;
  }

  private onClose(): void {
    if (this.closed) return;
    this.wasDown = true;
    this.epoch++;
    for (const entry of this.channels.values()) entry.subscribed = false;
    this.events.down();
  }

  /**
   * Resolves once the connection is ready. SUBSCRIBE is only ever sent then: ioredis would write
   * it during the handshake too (it is allowed while Redis loads), and the subscriber mode it
   * enters would make ioredis's own ready check fail.
   */
  private whenReady(): Promise<void> {
    if (this.connection.status === 'ready') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private onReady(): void {
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const resolve of waiters) resolve();
    if (this.closed || !this.wasDown) return;
    this.wasDown = false;
    this.resubscribing = true;
    this.resubscribe(this.epoch, 0);
  }

  /** Subscribes every wanted channel again; retried with back-off until it works or the connection drops. */
  private resubscribe(epoch: number, attempt: number): void {
    const wanted = [...this.channels.entries()].filter(([, entry]) => entry.refs > 0);
    Promise.all(wanted.map(([channel, entry]) => this.refs.sync(channel, entry))).then(
      () => {
        // A newer drop supersedes this round: its own `ready` resubscribes and reports.
        if (this.closed || epoch !== this.epoch) return;
        this.resubscribing = false;
        this.events.resubscribed();
      },
      (error: unknown) => {
        if (this.closed || epoch !== this.epoch) return;
        this.events.error(error);
        setTimeout(() => this.resubscribe(epoch, attempt + 1), computeBackoff(attempt, RESUBSCRIBE_BACKOFF));
      },
    );
  }
}
