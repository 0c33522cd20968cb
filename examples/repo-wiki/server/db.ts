import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RepositoryStatus, TaskStatus } from '@repopulse/events-core';
import Database from 'better-sqlite3';

/** The app's SQLite handle. */
export type Db = Database.Database;

/** A repository row. */
export interface RepositoryRow {
  id: number;
  name: string;
  url: string;
  status: RepositoryStatus;
  error_msg: string | null;
  owner: string;
  /** Random, made at creation: part of its topic name, so a reused id never names an old topic. */
  topic_nonce: string;
  /** The instance running its clone, while `pending`/`cloning`. */
  instance_id: string | null;
  created_at: number;
  updated_at: number;
}

/** A task row. */
export interface TaskRow {
  id: number;
  repo_id: number;
  kind: string;
  title: string;
  ord: number;
  status: TaskStatus;
  error_msg: string | null;
  phase: string | null;
  percent: number;
  instance_id: string | null;
  started_at: number | null;
  completed_at: number | null;
  updated_at: number;
}

/** A document row. */
export interface DocumentRow {
  id: number;
  repo_id: number;
  task_id: number | null;
  title: string;
  filename: string;
  content: string;
  created_at: number;
}

/** A stored log line (the snapshot of the log panel). */
export interface LogRow {
  id: number;
  repo_id: number;
  task_id: number | null;
  event_id: string;
  level: string;
  message: string;
  ts: number;
}

/** Schema versions, applied in order; `PRAGMA user_version` records the last one applied. */
const MIGRATIONS: string[] = [
  `CREATE TABLE repositories (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     name TEXT NOT NULL,
     url TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     error_msg TEXT,
     owner TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE tasks (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
     kind TEXT NOT NULL,
     title TEXT NOT NULL,
     ord INTEGER NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending',
     error_msg TEXT,
     phase TEXT,
     percent INTEGER NOT NULL DEFAULT 0,
     instance_id TEXT,
     started_at INTEGER,
     completed_at INTEGER,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX tasks_repo ON tasks(repo_id, ord);
   CREATE INDEX tasks_status ON tasks(status);
   CREATE TABLE documents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
     task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,
     title TEXT NOT NULL,
     filename TEXT NOT NULL,
     content TEXT NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE INDEX documents_repo ON documents(repo_id);
   CREATE TABLE logs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     repo_id INTEGER NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
     task_id INTEGER,
     event_id TEXT NOT NULL,
     level TEXT NOT NULL,
     message TEXT NOT NULL,
     ts INTEGER NOT NULL
   );
   CREATE INDEX logs_repo ON logs(repo_id, id);`,
  // v2: which instance runs a repository's clone (startup cleanup of interrupted clones).
  'ALTER TABLE repositories ADD COLUMN instance_id TEXT;',
  // v3: server-side sessions (revoked at logout); topic names no other database or repository
  // shares (a reused id never replays an old repository's history from the bus).
  `CREATE TABLE sessions (
     id TEXT PRIMARY KEY,
     username TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX sessions_expiry ON sessions(expires_at);
   ALTER TABLE repositories ADD COLUMN topic_nonce TEXT NOT NULL DEFAULT '';
   UPDATE repositories SET topic_nonce = lower(hex(randomblob(8)));
   CREATE TABLE app_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
   INSERT INTO app_meta (key, value) VALUES ('topic_nonce', lower(hex(randomblob(8))));`,
  // v4: the bus position of the last event the outbox relay delivered per topic (snapshots carry
  // it, so a page loads without asking the bus; see delivered-positions.ts).
  `CREATE TABLE bus_positions (
     topic TEXT PRIMARY KEY,
     position TEXT NOT NULL
   );`,
];

/**
 * Opens (creating if needed) `<dataDir>/repo-wiki.sqlite` in WAL mode with foreign keys on,
 * and applies pending migrations. Several processes may open the same file (two instances
 * sharing one data directory on the Redis bus).
 */
export function openDatabase(dataDir: string): Db {
  mkdirSync(dataDir, { recursive: true });
  const db = new Database(join(dataDir, 'repo-wiki.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.pragma('synchronous = NORMAL');
  const migrate = db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    }
  });
  migrate.immediate();
  return db;
}

/**
 * This database's random nonce (made by the migration that created it): part of the list topics'
 * names, so a new database on the same Redis never replays an old one's list history.
 */
export function databaseNonce(db: Db): string {
  const row = db.prepare("SELECT value FROM app_meta WHERE key = 'topic_nonce'").get() as
    | { value: string }
    | undefined;
  if (!row) throw new Error('[repo-wiki] the database has no topic nonce (migration v3 missing)');
  return row.value;
}

/**
 * Runs `fn` in one SQLite transaction that takes the write lock at its start (`BEGIN IMMEDIATE`,
 * so a read-then-write is serialized with other processes on the file too); inside another
 * transaction it is a savepoint. A throw rolls back everything `fn` wrote, its outbox events
 * included.
 */
export function inTransaction<T>(db: Db, fn: () => T): T {
  return db.transaction(fn).immediate();
}
