import { readFileSync } from 'node:fs';
import { numbered } from '@repopulse/bus-contract';
import { createTestSchema } from '@repopulse/test-support';
import { afterAll, expect, it } from 'vitest';
import { createPostgresBus, postgresBusSchemaSql } from '../src/index';
import { describeWithPostgres } from './postgres-support';

it('ships sql/schema.sql as postgresBusSchemaSql() makes it for the default schema', () => {
  const shipped = readFileSync(new URL('../sql/schema.sql', import.meta.url), 'utf8');
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
