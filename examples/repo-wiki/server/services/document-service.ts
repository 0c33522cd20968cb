import { AppError } from '../app-error';
import { type Db, type DocumentRow, inTransaction } from '../db';
import type { RepoEvents, RepoRef } from '../event-outbox';

/** A document without its content (list views). */
export type DocumentSummary = Omit<DocumentRow, 'content'>;

/** Generated documents: stored in SQLite, announced with `doc.created`. */
export class DocumentService {
  readonly #db: Db;
  readonly #events: RepoEvents;

  constructor(db: Db, events: RepoEvents) {
    this.#db = db;
    this.#events = events;
  }

  /** Documents of a repository, oldest first, without content. */
  listByRepo(repoId: number): DocumentSummary[] {
    return this.#db
      .prepare(
        'SELECT id, repo_id, task_id, title, filename, created_at FROM documents WHERE repo_id = ? ORDER BY id',
      )
      .all(repoId) as DocumentSummary[];
  }

  /** One document with its content; throws `not_found`. */
  get(id: number): DocumentRow {
    const row = this.#db.prepare('SELECT * FROM documents WHERE id = ?').get(id) as DocumentRow | undefined;
    if (!row) throw new AppError('not_found', `document ${id} does not exist`);
    return row;
  }

  /** Stores a document and enqueues `doc.created`, in one transaction. */
  create(
    repo: RepoRef,
    taskId: number | null,
    doc: { title: string; filename: string; content: string },
  ): DocumentRow {
    return inTransaction(this.#db, () => {
      const created_at = Date.now();
      const info = this.#db
        .prepare(
          'INSERT INTO documents (repo_id, task_id, title, filename, content, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(repo.id, taskId, doc.title, doc.filename, doc.content, created_at);
      const row: DocumentRow = {
        id: Number(info.lastInsertRowid),
        repo_id: repo.id,
        task_id: taskId,
        ...doc,
        created_at,
      };
      this.#events.enqueue(
        repo,
        'doc.created',
        { doc_id: String(row.id), title: row.title, filename: row.filename },
        taskId === null ? {} : { task_id: taskId },
      );
      return row;
    });
  }
}
