import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createTestSchema,
  postgresMissing,
  postgresServerMissing,
  requirement,
  startPostgres,
} from '../src/index';

const shared = requirement('test-support', await postgresMissing(), 'the shared-Postgres harness test');
const own = requirement('test-support', postgresServerMissing(), 'the own-Postgres harness test');

describe.skipIf(shared === 'skip')('createTestSchema', () => {
  it('gives each caller an empty schema of its own and drops it', async () => {
    const first = await createTestSchema('harness');
    const second = await createTestSchema('harness');
    expect(first.name).not.toBe(second.name);
    await first.pool.query('CREATE TABLE items (id int)');
    await first.pool.query('INSERT INTO items VALUES (1)');
    await expect(second.pool.query('SELECT * FROM items')).rejects.toThrow(/does not exist/);
    await first.drop();
    await second.drop();
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [first.name]);
    await client.end();
    expect(rowCount).toBe(0);
  });
});

describe.skipIf(own === 'skip')('startPostgres', () => {
  let server: Awaited<ReturnType<typeof startPostgres>> | undefined;
  afterAll(() => server?.destroy());

  it('runs a cluster of its own that survives a crash restart with committed rows', async () => {
    server = await startPostgres();
    expect(server.port).not.toBe(5432);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    await client.query('CREATE TABLE kept (id int)');
    await client.query('INSERT INTO kept VALUES (7)');
    client.on('error', () => {});
    await server.restart('immediate');
    await expect(client.query('SELECT 1')).rejects.toThrow();
    await client.end().catch(() => {});
    const again = new pg.Client({ connectionString: server.url });
    await again.connect();
    const { rows } = await again.query('SELECT id FROM kept');
    await again.end();
    expect(rows).toEqual([{ id: 7 }]);
  }, 60_000);
});
