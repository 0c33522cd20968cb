/** What {@link ChannelRefs} keeps per channel; hubs extend it with their own state. */
export interface ChannelRef {
  /** Subscriptions that want this channel. */
  refs: number;
  /** Serializes the changes of this channel. */
  chain: Promise<void>;
  /** Steps queued on `chain` and not finished. */
  ops: number;
}

/** How a hub creates, changes and retires its channel entries. */
export interface ChannelRefsHooks<E extends ChannelRef> {
  /** A new entry (refs 0) for `channel`. */
  create(channel: string): E;
  /** Makes the channel's subscription match its reference count (one step; steps of a channel never overlap). */
  apply(channel: string, entry: E): Promise<void>;
  /** True when the entry holds nothing any more (not subscribed anywhere), so it may be forgotten. */
  idle(entry: E): boolean;
}

/**
 * Reference-counted channels of a Pub/Sub hub: the first acquire of a channel subscribes, the
 * last release unsubscribes, and the changes of one channel run one after another, so racing
 * acquires and releases always end in the state the count says.
 */
export class ChannelRefs<E extends ChannelRef> {
  /** Every channel with references or a change in progress. */
  readonly entries = new Map<string, E>();

  constructor(private readonly hooks: ChannelRefsHooks<E>) {}

  /** Adds a reference to `channel`; resolves once the change it queued is done. */
  acquire(channel: string): Promise<void> {
    let entry = this.entries.get(channel);
    if (!entry) {
      entry = this.hooks.create(channel);
      this.entries.set(channel, entry);
    }
    entry.refs++;
    return this.sync(channel, entry);
  }

  /** Drops a reference to `channel`; resolves once the change it queued is done. */
  release(channel: string): Promise<void> {
    const entry = this.entries.get(channel);
    if (!entry || entry.refs === 0) return Promise.resolve();
    entry.refs--;
    return this.sync(channel, entry);
  }

  /** Queues one `apply` step for the channel after the ones already queued. */
  sync(channel: string, entry: E): Promise<void> {
    entry.ops++;
    const step = entry.chain.then(() => this.hooks.apply(channel, entry));
    const settle = () => {
      entry.ops--;
      if (
        entry.ops === 0 &&
        entry.refs === 0 &&
        this.hooks.idle(entry) &&
        this.entries.get(channel) === entry
      ) {
        this.entries.delete(channel);
      }
    };
    entry.chain = step.then(settle, settle);
    return step;
  }
}
