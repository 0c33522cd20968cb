/**
 * The outbox store for SQLite through better-sqlite3: `enqueue` writes inside the caller's
 * synchronous transaction.
 *
 * @packageDocumentation
 */
export {
  createSqliteStore,
  type SqliteDatabase,
  type SqliteStatement,
  type SqliteStoreOptions,
} from './sqlite-store';
