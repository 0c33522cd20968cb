import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The shared test Postgres when `DATABASE_URL` is not set (trust auth, database `test`). */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** The shared test Postgres URL: `DATABASE_URL`, else {@link DEFAULT_POSTGRES_URL}. */
export function postgresUrl(): string {
  return process.env.DATABASE_URL ?? DEFAULT_POSTGRES_URL;
}

/**
 * Why Postgres at `url` cannot be used (for {@link requirement}), or undefined when it answers
 * `SELECT 1` within two seconds.
 *
 * @example
 * const mode = requirement('outbox', await postgresMissing(), 'the Postgres store tests');
 */
export async function postgresMissing(url: string = postgresUrl()): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `Postgres at ${url} is not reachable (${(error as Error).message})`;
  } finally {
    await client.end().catch(() => {});
  }
}

/** A schema of its own on a Postgres server, made by {@link createTestSchema}. */
export interface TestSchema {
  /** The schema's name: a fresh `t_<prefix>_<hex>` per call. */
  readonly name: string;
  /** The server's URL (the schema is not in it: qualify names or use {@link TestSchema.pool}). */
  readonly url: string;
  /** A pool whose connections have `search_path` set to the schema. */
  readonly pool: pg.Pool;
  /** Ends the pool, then drops the schema with everything in it. */
  drop(): Promise<void>;
}

/**
 * Creates an empty schema with a unique name on `url` (the shared test server by default), so
 * tests never see each other's tables, and a pool that works inside it.
 *
 * @param prefix - a short word naming the test, part of the schema name.
 * @example
 * const schema = await createTestSchema('outbox');
 * afterAll(() => schema.drop());
 * await schema.pool.query('CREATE TABLE tasks (id int)');
 */
export async function createTestSchema(prefix: string, url: string = postgresUrl()): Promise<TestSchema> {
  const name = `t_${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${name}"`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: url, options: `-c search_path="${name}"` });
  pool.on('error', () => {});
  let dropped = false;
  return {
    name,
    url,
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end().catch(() => {});
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      try {
        await cleanup.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
