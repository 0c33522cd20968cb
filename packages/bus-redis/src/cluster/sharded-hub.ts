import { BusUnavailableError } from '@repopulse/events-core';
import { computeBackoff } from '@repopulse/events-core/bus-kit';
import type { Cluster, RedisOptions } from 'ioredis';
import { type ChannelRef, ChannelRefs } from '../channel-refs';
import type { LiveHub, LiveHubEvents } from '../live-hub';
import { keySlot } from './key-slot';
import { ShardConnection } from './shard-connection';

interface Channel extends ChannelRef {
  /** Its cluster slot. */
  slot: number;
  /** The connection it is subscribed on now. */
  connection: ShardConnection | undefined;
  /** True from a `down` until the matching `resubscribed`. */
  lost: boolean;
}

/** Longest pause between two attempts to subscribe a channel whose node is unreachable. */
const MAX_RETRY_DELAY_MS = 500;

/**
 * Sharded Pub/Sub for a Redis Cluster: one `SSUBSCRIBE` connection per node that owns the slot
 * of at least one subscribed channel, with reference-counted channels (the first acquire
 * subscribes, the last release unsubscribes; changes of one channel run one after another).
 *
 * A channel follows its slot. When its node connection drops (a node died), when that node
 * gives the slot away (failover, migration: Redis then pushes `sunsubscribe`), when a
 * subscribe is answered `MOVED`, or when the cluster's slot table names another owner, the
 * channel is reported `down`, subscribed again on the current owner (retried with back-off
 * while the shard has no reachable primary), and reported `resubscribed` only once that
 * worked, so a catch-up read that follows cannot miss a message.
 */
export class ShardedHub implements LiveHub {
  private readonly refs = new ChannelRefs<Channel>({
    create: (channel) => ({
      refs: 0,
      slot: keySlot(channel),
      connection: undefined,
      lost: false,
      chain: Promise.resolve(),
      ops: 0,
    }),
    apply: (channel, entry) => this.apply(channel, entry),
    idle: (entry) => !entry.connection,
  });
  private readonly channels = this.refs.entries;
  private readonly connections = new Map<string, ShardConnection>();
  /** Nodes whose failure was reported and that have not been reachable since. */
  private readonly reported = new Set<string>();
  private refreshing: Promise<void> | undefined;
  private closed = false;
  private readonly onRefresh = () => this.followSlots();

  constructor(
    private readonly cluster: Cluster,
    private readonly events: LiveHubEvents,
  ) {
    cluster.on('refresh', this.onRefresh);
  }

  /** Adds a reference to `channel`; resolves once it is subscribed on its slot's node. */
  acquire(channel: string): Promise<void> {
    return this.refs.acquire(channel);
  }

  /** Drops a reference to `channel`; the last one unsubscribes. */
  release(channel: string): Promise<void> {
    return this.refs.release(channel);
  }

  /** False while `channel` is not subscribed on its slot's current owner: live messages may be missing. */
  isUp(channel: string): boolean {
    const entry = this.channels.get(channel);
    return entry !== undefined && entry.connection !== undefined && !entry.lost;
  }

  /** Node connections open now (one per node with subscribed channels, plus ones being set up). */
  get connectionCount(): number {
    return this.connections.size;
  }

  /** Forgets every channel and ends every node connection. */
  close(): void {
    this.closed = true;
    this.cluster.off('refresh', this.onRefresh);
    this.channels.clear();
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }

  /** Makes the channel's subscription match its reference count and its slot's owner; retries until it does. */
  private async apply(channel: string, entry: Channel): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      if (entry.refs === 0) {
        this.leave(channel, entry);
        entry.lost = false;
        return;
      }
      const owner = this.owner(entry.slot);
      if (entry.connection && !entry.connection.closed && entry.connection.nodeKey === owner) {
        if (entry.lost) {
          entry.lost = false;
          this.events.resubscribed([channel]);
        }
        return;
      }
      this.leave(channel, entry);
      if (owner === undefined && this.cluster.status !== 'ready') {
        // The slot table arrives with the cluster client's first `ready`.
        await this.clusterReady();
        continue;
      }
      try {
        if (owner === undefined) throw new Error(`no cluster node serves slot ${entry.slot}`);
        const connection = this.connection(owner);
        connection.pending++;
        try {
          await connection.ready();
          await connection.subscribe(channel);
        } finally {
          connection.pending--;
        }
        if (this.closed) return;
        if (connection.closed) continue;
        entry.connection = connection;
        connection.channels.add(channel);
        this.reported.delete(owner);
      } catch (error) {
        if (this.closed) return;
        if (!isMoved(error)) {
          if (owner === undefined || !this.reported.has(owner)) {
            if (owner !== undefined) this.reported.add(owner);
            this.events.error(this.unavailable(owner, error));
          }
          await sleep(computeBackoff(attempt, { initialMs: 25, maxMs: MAX_RETRY_DELAY_MS, jitter: 0.5 }));
        }
        await this.refresh();
      }
    }
  }

  /** Unsubscribes the channel from its current connection (best effort: the connection may be gone). */
  private leave(channel: string, entry: Channel): void {
    const connection = entry.connection;
    if (!connection) return;
    entry.connection = undefined;
    connection.channels.delete(channel);
    if (connection.closed) return;
    if (connection.channels.size === 0 && connection.pending === 0) {
      this.dropConnection(connection);
      return;
    }
    connection.redis.sunsubscribe(channel).catch(() => {});
  }

  /** The `host:port` that serves `slot` as primary, by the cluster's slot table. */
  private owner(slot: number): string | undefined {
    return this.cluster.slots[slot]?.[0];
  }

  private connection(nodeKey: string): ShardConnection {
    const existing = this.connections.get(nodeKey);
    if (existing && !existing.closed) return existing;
    const connection = new ShardConnection(nodeKey, this.nodeOptions(), {
      message: (channel, payload) => this.events.message(channel, payload),
      lost: (lost) => this.onLost(lost),
      error: (failed, error) => {
        if (this.closed || this.reported.has(failed.nodeKey)) return;
        this.reported.add(failed.nodeKey);
        this.events.error(this.unavailable(failed.nodeKey, error));
      },
    });
    this.connections.set(nodeKey, connection);
    return connection;
  }

  private unavailable(nodeKey: string | undefined, cause: unknown): BusUnavailableError {
    const where = nodeKey === undefined ? 'a slot without a primary' : `cluster node ${nodeKey}`;
    return new BusUnavailableError(`sharded Pub/Sub on ${where} failed; retrying`, { cause });
  }

  private nodeOptions(): RedisOptions {
    return { ...(this.cluster.options.redisOptions ?? {}) };
  }

  private dropConnection(connection: ShardConnection): void {
    if (this.connections.get(connection.nodeKey) === connection) this.connections.delete(connection.nodeKey);
    connection.close();
  }

  /** A node connection is gone: every channel on it goes down and is routed again. */
  private onLost(connection: ShardConnection): void {
    if (this.connections.get(connection.nodeKey) === connection) this.connections.delete(connection.nodeKey);
    if (this.closed || connection.channels.size === 0) return;
    const channels = [...connection.channels];
    connection.channels.clear();
    for (const channel of channels) {
      const entry = this.channels.get(channel);
      if (entry?.connection === connection) this.reroute(channel, entry);
    }
    void this.refresh();
  }

  /** The slot table changed: channels whose slot has a new owner move there. */
  private followSlots(): void {
    if (this.closed) return;
    for (const [channel, entry] of this.channels) {
      const connection = entry.connection;
      if (connection && connection.nodeKey !== this.owner(entry.slot)) {
        this.leave(channel, entry);
        this.reroute(channel, entry);
      }
    }
  }

  private reroute(channel: string, entry: Channel): void {
    entry.connection = undefined;
    if (!entry.lost && entry.refs > 0) {
      entry.lost = true;
      this.events.down([channel]);
    }
    void this.refs.sync(channel, entry).catch(() => {});
  }

  /** Resolves on the cluster client's next `ready`, or after a short while to look again. */
  private clusterReady(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.cluster.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, MAX_RETRY_DELAY_MS);
      this.cluster.once('ready', done);
    });
  }

  /** Asks the cluster client to reload its slot table (one reload at a time, bounded). */
  private refresh(): Promise<void> {
    this.refreshing ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.cluster.refreshSlotsCache(() => {
        clearTimeout(timer);
        resolve();
      });
    }).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }
}

function isMoved(error: unknown): boolean {
  return error instanceof Error && (error.message.startsWith('MOVED') || error.message.startsWith('ASK'));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
