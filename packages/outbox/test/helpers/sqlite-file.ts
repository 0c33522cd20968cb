import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';

/** A SQLite database on a file in a fresh temp directory, with a `tasks` table; `remove()` deletes it. */
export function sqliteFile(): { path: string; db: Database.Database; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'repopulse-outbox-'));
  const path = join(dir, 'app.db');
  const db = openApp(path);
  return {
    path,
    db,
    remove() {
      if (db.open) db.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Opens the app database at `path` (WAL, the `tasks` table). */
export function openApp(path: string): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, status TEXT NOT NULL)');
  return db;
}
