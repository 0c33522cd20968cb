import { BusUnavailableError } from '@repopulse/events-core';
import type pg from 'pg';
import { postgresBusSchemaSql, schemaObjects } from './schema-sql';

/**
 * Makes sure the bus's tables and functions exist in `schema`: one query when they do; otherwise,
 * with `create`, the schema SQL in one transaction under an advisory lock (several processes
 * starting at once create it once), without it a `BusUnavailableError` saying what to run.
 */
export async function ensureSchema(pool: pg.Pool, schema: string, create: boolean): Promise<void> {
  if (await schemaReady(pool, schema)) return;
  if (!create) {
    throw new BusUnavailableError(
      `Postgres schema "${schema}" has no bus tables: run @repopulse/bus-postgres/schema.sql ` +
        '(or postgresBusSchemaSql()) in a migration, or set createTables: true',
    );
  }
  const client = await pool.connect();
  const ignoreConnectionError = () => {}; // a lost connection rejects the query below instead
  client.on('error', ignoreConnectionError);
  let failed: unknown;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`repopulse-bus-postgres:${schema}`]);
    await client.query(postgresBusSchemaSql(schema));
    await client.query('COMMIT');
  } catch (error) {
    failed = error;
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.off('error', ignoreConnectionError);
    client.release(failed instanceof Error ? failed : undefined);
  }
}

async function schemaReady(pool: pg.Pool, schema: string): Promise<boolean> {
  const objects = schemaObjects(schema);
  const { rows } = await pool.query<{ ready: boolean }>(
    'SELECT bool_and(to_regprocedure(name) IS NOT NULL) AS ready FROM unnest($1::text[]) AS name',
    [objects],
  );
  return rows[0]?.ready === true;
}
