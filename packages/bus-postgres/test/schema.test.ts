import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numbered } from '@repopulse/bus-contract';
import { createTestSchema } from '@repopulse/test-support';
import { afterAll, expect, it } from 'vitest';
import { createPostgresBus, postgresBusSchemaSql } from '../src/index';
import { describeWithPostgres } from './postgres-support';

it('the build writes sql/schema.sql as postgresBusSchemaSql() makes it for the default schema', () => {
  const output = join(mkdtempSync(join(tmpdir(), 'bus-postgres-sql-')), 'schema.sql');
  const script = fileURLToPath(new URL('../scripts/write-schema-sql.mjs', import.meta.url));
  execFileSync(process.execPath, [script, output]);
  const shipped = readFileSync(output, 'utf8');
  rmSync(dirname(output), { recursive: true });
  expect(shipped).toBe(postgresBusSchemaSql());
  expect(shipped).toContain('CREATE SCHEMA IF NOT EXISTS "repopulse"');
});

describeWithPostgres('bus-postgres: its tables', () => {
  const schemas: { drop(): Promise<void> }[] = [];
  afterAll(async () => {
    await Promise.all(schemas.map((s) => s.drop()));
  });
  const freshSchema = async (prefix: string) => {
    const schema = await createTestSchema(prefix);
    schemas.push(schema);
    // createTestSchema made it empty; the bus creates its tables in a schema of this name.
    return schema;
  };

  it('creates them once when several buses start at once', async () => {
    const schema = await freshSchema('bus_ddl');
    const buses = Array.from({ length: 6 }, () =>
      createPostgresBus({ connectionString: schema.url, schema: schema.name }),
    );
    try {
      const results = await Promise.all(buses.map((bus, i) => bus.publish('ddl', numbered(i))));
      expect(new Set(results.map((r) => r.position)).size).toBe(6);
      const { rows } = await schema.pool.query('SELECT count(*)::int AS n FROM events');
      expect(rows[0].n).toBe(6);
    } finally {
      await Promise.all(buses.map((bus) => bus.close()));
    }
  });

  it('with createTables: false, rejects with bus_unavailable naming the SQL to run, then works once it ran', async () => {
    const schema = await freshSchema('bus_migrate');
    const bus = createPostgresBus({
      connectionString: schema.url,
      schema: schema.name,
      createTables: false,
      publishTimeoutMs: 500,
    });
    try {
      await expect(bus.publish('m', numbered(1))).rejects.toMatchObject({
        code: 'bus_unavailable',
        message: expect.stringContaining('schema.sql'),
      });
      await schema.pool.query(postgresBusSchemaSql(schema.name));
      const published = await bus.publish('m', numbered(2));
      expect(await bus.head('m')).toBe(published.position);
    } finally {
      await bus.close();
    }
  });
});
