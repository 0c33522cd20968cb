/** Callbacks of a {@link LiveHub}. */
export interface LiveHubEvents {
  /** A message arrived on a channel (its payload as Redis sent it). */
  message(channel: string, payload: Buffer): void;
  /** Messages of these channels (all when omitted) may be missed until {@link LiveHubEvents.resubscribed}. */
  down(channels?: readonly string[]): void;
  /** These channels (all when omitted) are subscribed again: catch up from the store now. */
  resubscribed(channels?: readonly string[]): void;
  /** A connection or resubscribe error with no caller to reject. */
  error(error: unknown): void;
}

/**
 * Live notification with reference-counted channels: one Pub/Sub connection on a single Redis
 * (`ChannelHub`), or one sharded Pub/Sub connection per node on a Redis Cluster (`ShardedHub`).
 */
export interface LiveHub {
  /** Adds a reference to `channel`; resolves once it is subscribed. */
  acquire(channel: string): Promise<void>;
  /** Drops a reference to `channel`; the last one unsubscribes. */
  release(channel: string): Promise<void>;
  /** False while messages of `channel` may be missing (connection down, resubscribing). */
  isUp(channel: string): boolean;
  /** Forgets every channel and ends the connections. */
  close(): void;
}
