import { BusClosedError, BusUnavailableError } from '@repopulse/events-core';
import { computeBackoff, Waiters } from '@repopulse/events-core/bus-kit';
import type pg from 'pg';
import { describeError } from './connection-errors';
import { quoteIdentifier } from './schema-sql';

/** Between two attempts to reach Postgres again (LISTEN, a live read): 50 ms doubling to 2 s, equal jitter. */
export const RECONNECT_BACKOFF = { initialMs: 50, maxMs: 2000, jitter: 0.5 };

/** What a {@link ListenConnection} tells its transport. */
export interface ListenEvents {
  /**
   * A notification arrived on `channel` from server process `sender`; `payload` is the position it
   * announces (empty from a schema older than positions in notifications).
   */
  notified(channel: string, sender: number | undefined, payload: string): void;
  /** The connection dropped: notifications may be missing from now on. */
  down(): void;
  /** Connected again after {@link ListenEvents.down}, every channel listened to again. */
  up(): void;
  /** A connection failure, reported once per outage. */
  error(error: unknown): void;
}

/**
 * The bus's one listening connection: a session of its own (LISTEN needs one; publishes and reads
 * go through the pool). Channels are reference-counted: the first {@link acquire} LISTENs, the
 * last {@link release} UNLISTENs; statements on one connection run in the order they were sent, so
 * racing acquires and releases end as the count says. A dropped connection (server restart,
 * `pg_terminate_backend`, network) is reported as `down`, reconnected with backoff, every counted
 * channel LISTENed again, then reported as `up`.
 */
export class ListenConnection {
  private client: pg.Client | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private wasDown = false;
  private reported = false;
  private readonly refs = new Map<string, number>();
  /** Channels LISTENed (or being LISTENed) on the current client. */
  private listened = new Map<string, Promise<void>>();
  /** The statements sent to the current client, one after another (pg 9 will not queue them). */
  private statements: Promise<unknown> = Promise.resolve();
  private readonly waiters = new Waiters();

  constructor(
    private readonly makeClient: () => pg.Client,
    private readonly events: ListenEvents,
  ) {}

  /** True while connected with every counted channel listened to (or being listened to). */
  get isUp(): boolean {
    return this.client !== undefined;
  }

  /**
   * Adds a reference to `channel`; resolves once it is LISTENed on the current connection.
   * Rejects with `BusUnavailableError` when that took longer than `timeoutMs`.
   */
  async acquire(channel: string, timeoutMs: number): Promise<void> {
    this.refs.set(channel, (this.refs.get(channel) ?? 0) + 1);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.whenUp(deadline - Date.now());
      const client = this.client;
      if (!this.refs.has(channel) || client === undefined) return;
      let listening = this.listened.get(channel);
      if (!listening) {
        listening = this.run(client, `LISTEN ${quoteIdentifier(channel)}`);
        listening.catch(() => {});
        this.listened.set(channel, listening);
      }
      try {
        await listening;
        return;
      } catch (error) {
        if (Date.now() >= deadline) {
          throw new BusUnavailableError(`could not LISTEN on Postgres: ${describeError(error)}`, {
            cause: error,
          });
        }
        // The connection dropped meanwhile: the next one LISTENs every counted channel.
      }
    }
  }

  /** Drops a reference to `channel`; the last one UNLISTENs. */
  release(channel: string): void {
    const count = this.refs.get(channel);
    if (count === undefined) return;
    if (count > 1) {
      this.refs.set(channel, count - 1);
      return;
    }
    this.refs.delete(channel);
    if (this.client && this.listened.delete(channel)) {
      this.run(this.client, `UNLISTEN ${quoteIdentifier(channel)}`).catch(() => {});
    }
  }

  /**
   * Resolves when connected (connecting first if needed); rejects with `BusUnavailableError` after
   * `timeoutMs`, with `BusClosedError` once closed.
   */
  whenUp(timeoutMs: number): Promise<void> {
    if (this.closed) return Promise.reject(new BusClosedError());
    if (this.client) return Promise.resolve();
    this.connect();
    return this.waiters.wait(
      timeoutMs,
      () => new BusUnavailableError(`Postgres stayed unreachable for ${timeoutMs} ms`),
    );
  }

  /** Ends the connection; waiters reject with `BusClosedError`. */
  async close(): Promise<void> {
    this.closed = true;
    this.waiters.rejectAll(new BusClosedError());
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  /** Sends `sql` on `client` after the statements sent before it. */
  private run(client: pg.Client, sql: string): Promise<void> {
    const done = this.statements.then(() => client.query(sql)).then(() => {});
    this.statements = done.catch(() => {});
    return done;
  }

  private connect(): void {
    if (this.connecting || this.closed || this.client) return;
    this.connecting = this.connectLoop().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.closed; attempt++) {
      const client = this.makeClient();
      const lost = (error?: unknown) => this.lost(client, error);
      client.on('error', lost);
      client.on('end', () => lost());
      client.on('notification', (message) => {
        if (!this.closed) this.events.notified(message.channel, message.processId, message.payload ?? '');
      });
      try {
        await client.connect();
        const channels = [...this.refs.keys()];
        if (channels.length > 0) {
          await client.query(channels.map((channel) => `LISTEN ${quoteIdentifier(channel)}`).join('; '));
        }
        if (this.closed) {
          await client.end().catch(() => {});
          return;
        }
        this.client = client;
        this.statements = Promise.resolve();
        this.listened = new Map(channels.map((channel) => [channel, Promise.resolve()]));
        // Released while connecting: not wanted any more.
        for (const channel of channels) {
          if (this.refs.has(channel)) continue;
          this.listened.delete(channel);
          this.run(client, `UNLISTEN ${quoteIdentifier(channel)}`).catch(() => {});
        }
        this.reported = false;
        this.waiters.resolveAll();
        if (this.wasDown) {
          this.wasDown = false;
          this.events.up();
        }
        return;
      } catch (error) {
        client.removeAllListeners('end');
        client.removeAllListeners('notification');
        client.on('error', () => {});
        await client.end().catch(() => {});
        this.report(error);
        await new Promise((resolve) => setTimeout(resolve, computeBackoff(attempt, RECONNECT_BACKOFF)));
      }
    }
  }

  private lost(client: pg.Client, error: unknown): void {
    if (client !== this.client) return;
    this.client = undefined;
    this.listened = new Map();
    client.removeAllListeners('notification');
    client.end().catch(() => {});
    if (this.closed) return;
    this.report(error ?? new Error('the listening connection ended'));
    this.wasDown = true;
    this.events.down();
    this.connect();
  }

  private report(error: unknown): void {
    if (this.reported || this.closed) return;
    this.reported = true;
    this.events.error(
      new BusUnavailableError(`Postgres listening connection failed: ${describeError(error)}`, {
        cause: error,
      }),
    );
  }
}
