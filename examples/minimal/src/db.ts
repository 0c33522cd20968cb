import Database from 'better-sqlite3';

/**
 * Your database: SQLite here (`DATABASE_FILE`, default `tasks.db`), holding the tasks. The outbox
 * adds its own table to it (`repopulse_outbox`) on start. Instances on one machine may share the
 * file; the outbox relays from it in each of them.
 */
export function openDatabase(file = process.env.DATABASE_FILE ?? 'tasks.db'): Database.Database {
  const db = new Database(file);
  db.pragma('journal_mode = WAL'); // readers never wait for the writer
  db.pragma('busy_timeout = 5000'); // another instance's transaction: wait for it
  db.exec(`CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY,
    repo_id TEXT NOT NULL,
    status TEXT NOT NULL,
    percent INTEGER NOT NULL
  )`);
  return db;
}
