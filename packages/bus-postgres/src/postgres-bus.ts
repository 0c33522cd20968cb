import {
  type BusOptions,
  type Envelope,
  type EventBus,
  type EventType,
  OptionsError,
  type PublishResult,
  type Topic,
} from '@repopulse/events-core';
import { checkOptions, defineBus, requireOption, resolveBusOptions } from '@repopulse/events-core/bus-kit';
import pg from 'pg';
import { callerTransaction } from './caller-transaction';
import { type PostgresTransportSettings, postgresTransport } from './postgres-transport';
import { DEFAULT_SCHEMA } from './schema-sql';

/** Options of {@link createPostgresBus}. Give exactly one of `connectionString` and `pool`. */
export interface PostgresBusOptions extends BusOptions {
  /**
   * Postgres to connect to. The bus makes a `pg.Pool` of it for publishes and reads (ended in
   * `close()`) and opens one more connection of its own for LISTEN.
   * @example 'postgres://app@db.internal:5432/app'
   */
  connectionString?: string;
  /**
   * An existing `pg.Pool` to publish and read with; the bus never ends it. The listening connection
   * is opened separately with the pool's settings (see `listenConnectionString`), so it does not take
   * a connection out of the pool.
   * @example new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 20 })
   */
  pool?: pg.Pool;
  /**
   * Where the listening connection goes, when it must differ from the pool's: LISTEN needs a
   * session of its own, so behind PgBouncer in transaction pooling mode point this straight at
   * Postgres (or at a session-mode pool) while publishes and reads go through PgBouncer.
   * @default the `connectionString`, or the `pool`'s connection settings
   * @example 'postgres://app@db.internal:5432/app'
   */
  listenConnectionString?: string;
  /**
   * The schema holding the bus's tables (`topics`, `events`) and functions (`append_events`, `drop_topic`).
   * @default 'repopulse'
   */
  schema?: string;
  /**
   * Create the schema, tables and functions when they are missing (on first use, in one transaction
   * under an advisory lock, so processes starting together create them once). `false` for teams
   * that run migrations: apply `@repopulse/bus-postgres/schema.sql` (or `postgresBusSchemaSql()`)
   * first; a bus without its tables then rejects with `BusUnavailableError` saying so.
   * @default true
   */
  createTables?: boolean;
  /**
   * Longest time a publish (and a subscribe, `head`, `dropTopic` or catch-up read) waits while
   * Postgres is unreachable, or while another transaction holds the topic, before it rejects with
   * `BusUnavailableError`. A publish inside your transaction (`{ client }`) is not bounded by it: it
   * waits as your transaction does (set `lock_timeout` there if needed).
   * @default 5000
   */
  publishTimeoutMs?: number;
}

/** Options of {@link PostgresBus.publish} and {@link PostgresBus.dropTopic}. */
export interface PostgresPublishOptions {
  /**
   * A `pg` client with an open transaction (`BEGIN` sent): the event is stored in that transaction,
   * reaches subscribers only once it commits and never if it rolls back, and the position returned
   * is the one subscribers will see. While that transaction is open, other publishes to the same
   * topic wait for it (positions are issued in commit order). A client without an open transaction
   * publishes at once, as without `client`.
   * @example await pool.connect()
   */
  client: pg.ClientBase;
}

/**
 * The bus {@link createPostgresBus} returns: an {@link EventBus} whose `publish` and `dropTopic`
 * can also run inside the caller's transaction.
 */
export interface PostgresBus extends EventBus {
  /**
   * Publishes like {@link EventBus.publish}; with `{ client }`, inside that client's transaction:
   * visible to subscribers at COMMIT, never after ROLLBACK.
   * @example
   * ```ts
   * await client.query('BEGIN');
   * await client.query('UPDATE tasks SET status = $1 WHERE id = $2', ['running', 7]);
   * await bus.publish('repo:42', event, { client });
   * await client.query('COMMIT'); // subscribers get the event now
   * ```
   */
  publish<K extends EventType>(
    topic: Topic,
    event: Envelope<K>,
    options?: PostgresPublishOptions,
  ): Promise<PublishResult<Envelope<K>>>;
  /**
   * Drops the topic like {@link EventBus.dropTopic}; with `{ client }`, inside that client's
   * transaction (subscribers are reset at COMMIT).
   * @example
   * ```ts
   * await bus.dropTopic('repo:42', { client }); // with the DELETE of the repository
   * ```
   */
  dropTopic(topic: Topic, options?: PostgresPublishOptions): Promise<void>;
}

/** Default {@link PostgresBusOptions.publishTimeoutMs}. */
export const DEFAULT_POSTGRES_PUBLISH_TIMEOUT_MS = 5000;

const SCOPE = 'createPostgresBus';
/** `application_name` of the bus's own connections (in `pg_stat_activity`). */
const APPLICATION_NAME = 'repopulse-bus-postgres';
const OWN_OPTION_KEYS = [
  'connectionString',
  'pool',
  'listenConnectionString',
  'schema',
  'createTables',
  'publishTimeoutMs',
];

/**
 * A multi-process {@link EventBus} on PostgreSQL: topics are rows of the bus's tables, positions are
 * issued in commit order, and a publish can run inside the transaction that changes your data.
 *
 * Each topic has a head row; an append locks it until its transaction ends, so positions increase
 * in commit order and a reader can never move past an event that may still commit (one appending
 * transaction per topic at a time; different topics do not wait for each other). Live delivery:
 * `pg_notify` at commit wakes the bus's one listening connection (LISTEN per subscribed topic,
 * reference-counted), and the topic is read from the last delivered position; after a reconnect
 * every subscription catches up by SQL. Retention by count and age per topic, idempotent publish by
 * event id while the event is retained.
 *
 * @example
 * ```ts
 * const bus = createPostgresBus({ connectionString: process.env.DATABASE_URL });
 * await bus.subscribe('repo:42', (d) => console.log(d.reset ? 'reset' : d.event.type), { after });
 * await bus.publish('repo:42', createEvent('log.append', { level: 'info', message: 'hi' }));
 * ```
 */
export function createPostgresBus(options: PostgresBusOptions): PostgresBus {
  const given: PostgresBusOptions = options ?? {};
  const resolved = resolveBusOptions(SCOPE, given, { optional: OWN_OPTION_KEYS });
  const schema = given.schema ?? DEFAULT_SCHEMA;
  const timeoutMs = given.publishTimeoutMs ?? DEFAULT_POSTGRES_PUBLISH_TIMEOUT_MS;
  const createTables = given.createTables ?? true;
  checkOwnOptions(given, schema, timeoutMs, createTables);

  const ownsPool = given.pool === undefined;
  const pool =
    given.pool ??
    new pg.Pool({
      connectionString: given.connectionString,
      connectionTimeoutMillis: timeoutMs,
      application_name: APPLICATION_NAME,
    });
  const listenConfig: pg.ClientConfig = given.listenConnectionString
    ? { connectionString: given.listenConnectionString }
    : { ...(pool.options as pg.ClientConfig) };
  const settings: PostgresTransportSettings = {
    pool,
    ownsPool,
    makeListenClient: () =>
      new pg.Client({
        ...listenConfig,
        application_name: `${listenConfig.application_name ?? APPLICATION_NAME} listen`,
        keepAlive: true,
      }),
    schema,
    createTables,
    historyLimit: resolved.historyLimit,
    historyTtlMs: resolved.historyTtlMs,
    timeoutMs,
  };
  if (ownsPool) {
    // An idle pooled connection that fails (server restart) is replaced on next use.
    pool.on('error', (error) => resolved.report(error, { source: 'connection' }));
  }
  const base = defineBus(resolved, (sink) => postgresTransport(settings, sink));
  const inCaller = async <T>(
    scope: string,
    callerOptions: PostgresPublishOptions | undefined,
    run: () => Promise<T>,
  ): Promise<T> => {
    if (callerOptions === undefined) return run();
    checkCallerOptions(scope, callerOptions);
    return callerTransaction.run(callerOptions.client, run);
  };
  const bus: PostgresBus = {
    ...base,
    publish: (topic, event, publishOptions) =>
      inCaller('publish', publishOptions, () => base.publish(topic, event)),
    dropTopic: (topic, dropOptions) => inCaller('dropTopic', dropOptions, () => base.dropTopic(topic)),
  };
  return bus;
}

function isQueryable(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && typeof (value as { query?: unknown }).query === 'function'
  );
}

function checkCallerOptions(scope: string, options: PostgresPublishOptions): void {
  checkOptions(scope, options, { required: ['client'] });
  const client: unknown = options.client;
  requireOption(
    scope,
    'client',
    isQueryable(client),
    'a pg client (a pg.Client, or a client from pool.connect())',
    client,
  );
}

function checkOwnOptions(
  options: PostgresBusOptions,
  schema: string,
  timeoutMs: number,
  createTables: boolean,
): void {
  const targets = [options.connectionString, options.pool].filter((t) => t !== undefined).length;
  if (targets !== 1) {
    throw new OptionsError(
      targets === 0 ? 'missing_option' : 'invalid_option',
      `${SCOPE} needs exactly one of \`connectionString\` and \`pool\``,
      'connectionString',
    );
  }
  for (const name of ['connectionString', 'listenConnectionString'] as const) {
    const value: unknown = options[name];
    if (value !== undefined)
      requireOption(SCOPE, name, typeof value === 'string' && value.length > 0, 'a non-empty string', value);
  }
  if (options.pool !== undefined) {
    requireOption(SCOPE, 'pool', isQueryable(options.pool), 'a pg.Pool', options.pool);
  }
  requireOption(
    SCOPE,
    'schema',
    typeof schema === 'string' &&
      schema.length > 0 &&
      Buffer.byteLength(schema) <= 63 &&
      !schema.includes('\u0000'),
    'a schema name of 1-63 bytes',
    schema,
  );
  requireOption(SCOPE, 'createTables', typeof createTables === 'boolean', 'a boolean', createTables);
  requireOption(
    SCOPE,
    'publishTimeoutMs',
    typeof timeoutMs === 'number' && timeoutMs > 0 && Number.isFinite(timeoutMs),
    'a positive number of milliseconds',
    timeoutMs,
  );
}
