/**
 * The outbox store for Postgres through pg 8: `enqueue` writes with the client of the caller's
 * `BEGIN … COMMIT`; one relay per table at a time across processes; `LISTEN/NOTIFY` wake-ups.
 *
 * @packageDocumentation
 */
export { createPostgresStore, type PostgresStoreOptions } from './postgres-store';
export type { PgPool, PgPoolClient, PgQueryable, PgResult } from './postgres-types';
