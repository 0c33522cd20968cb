import { Redis, type RedisOptions } from 'ioredis';

/**
 * ioredis 5's words when a reply arrives that no command waits for. On a sharded subscriber
 * connection that is Redis pushing `sunsubscribe` by itself (the node lost the channel's slot
 * to a failover or migration): ioredis 5 has no event for it, and its reply queue is out of
 * step from then on, so the connection is dropped and its channels are subscribed again on the
 * slot's new owner. (ioredis 6 emits `moved` for that push instead.)
 */
const UNEXPECTED_REPLY = 'Command queue state error';

/** What a {@link ShardConnection} reports to its hub. */
export interface ShardConnectionEvents {
  /** A sharded Pub/Sub message arrived (its payload as Redis sent it). */
  message(channel: string, payload: Buffer): void;
  /** The connection is gone for good (closed, failed, or dropped after an unexpected reply). */
  lost(connection: ShardConnection): void;
  /** A connection error (refused, reset, …). */
  error(connection: ShardConnection, error: unknown): void;
}

/**
 * One sharded Pub/Sub (`SSUBSCRIBE`) connection to one cluster node. It never reconnects: when
 * it drops, its hub routes its channels again (possibly to another node, after a failover)
 * over a fresh connection, and the subscriptions catch up from the stream.
 */
export class ShardConnection {
  /** The ioredis connection. */
  readonly redis: Redis;
  /** Channels subscribed on this connection. */
  readonly channels = new Set<string>();
  /** Subscribes under way on this connection (it is not dropped while one is). */
  pending = 0;
  /** True once the connection is gone; it is never used again. */
  closed = false;
  private readonly whenReady: Promise<void>;
  private readonly whenClosed: Promise<never>;
  /** Why the connection was dropped on purpose (`MOVED …`), for the commands it leaves unanswered. */
  private dropReason = '';

  constructor(
    /** `host:port` of the node, as the cluster's slot table names it. */
    readonly nodeKey: string,
    options: RedisOptions,
    events: ShardConnectionEvents,
  ) {
    const split = nodeKey.lastIndexOf(':');
    this.redis = new Redis({
      ...options,
      host: nodeKey.slice(0, split),
      port: Number(nodeKey.slice(split + 1)),
      autoResubscribe: false,
      enableAutoPipelining: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => null,
      lazyConnect: false,
    });
    this.whenReady = new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('close', () => reject(new Error(`the connection to ${nodeKey} closed`)));
    });
    this.whenReady.catch(() => {});
    this.whenClosed = new Promise<never>((_, reject) => {
      this.redis.once('close', () =>
        reject(new Error(this.dropReason || `Connection is closed (${nodeKey})`)),
      );
    });
    this.whenClosed.catch(() => {});
    this.redis.on('smessageBuffer', (channel: Buffer, payload: Buffer) =>
      events.message(channel.toString(), payload),
    );
    this.redis.on('error', (error: unknown) => {
      if (error instanceof Error && error.message.startsWith(UNEXPECTED_REPLY)) {
        this.drop('MOVED: the node gave a slot away');
      } else events.error(this, error);
    });
    // `moved`: an SSUBSCRIBE answered MOVED (ioredis 5 then never settles the command) or, on
    // ioredis 6, an unsolicited `sunsubscribe`. Either way the slot table changed: start over.
    this.redis.on('moved', () => this.drop('MOVED: the slot has another owner now'));
    this.redis.once('close', () => {
      this.closed = true;
      events.lost(this);
    });
  }

  /** Resolves once the connection is ready for `SSUBSCRIBE`; rejects when it closed first. */
  ready(): Promise<void> {
    return this.whenReady;
  }

  /**
   * `SSUBSCRIBE channel`; rejects when the connection closes first. (ioredis 5 never settles an
   * `SSUBSCRIBE` answered `MOVED`: it emits `moved`, this connection drops itself, and the
   * rejection carries the `MOVED` reason.)
   */
  async subscribe(channel: string): Promise<void> {
    await Promise.race([this.redis.ssubscribe(channel), this.whenClosed]);
  }

  private drop(reason: string): void {
    this.dropReason ||= reason;
    this.redis.disconnect();
  }

  /** Ends the connection (no `SUNSUBSCRIBE` round trips needed). */
  close(): void {
    this.redis.disconnect();
  }
}
