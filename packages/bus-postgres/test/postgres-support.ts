import {
  createTestSchema,
  postgresMissing,
  postgresServerMissing,
  requirement,
  type TestSchema,
} from '@repopulse/test-support';
import { afterAll, beforeAll, describe } from 'vitest';
import { createPostgresBus, type PostgresBus, type PostgresBusOptions } from '../src/index';

const sharedMode = requirement('bus-postgres', await postgresMissing(), 'the Postgres bus tests');
const serverMode = requirement(
  'bus-postgres',
  postgresServerMissing(),
  'the Postgres fault tests (they start a server of their own)',
);

/** `describe` when the shared test Postgres answers, else a loud skip (a failure under CI=true). */
export function describeWithPostgres(name: string, body: () => void): void {
  if (sharedMode === 'run') describe(name, body);
  else describe.skip(name, body);
}

/** `describe` when a Postgres server of its own can be started (initdb, pg_ctl), else a loud skip. */
export function describeWithPostgresServer(name: string, body: () => void): void {
  if (serverMode === 'run') describe(name, body);
  else describe.skip(name, body);
}

/** Bus options a test may set (the connection and schema come from the suite). */
export type TestBusOptions = Omit<PostgresBusOptions, 'pool' | 'connectionString' | 'schema'>;

/**
 * A fresh schema on the shared test Postgres for the suite, dropped after it, and a factory of buses
 * on it (each bus closed by the caller).
 */
export function useBusSchema(prefix: string): {
  schema: () => TestSchema;
  bus: (options?: TestBusOptions) => PostgresBus;
} {
  let schema: TestSchema | undefined;
  beforeAll(async () => {
    schema = await createTestSchema(prefix);
  });
  afterAll(async () => {
    await schema?.drop();
  });
  const current = () => {
    if (!schema) throw new Error('the schema is made in beforeAll');
    return schema;
  };
  return {
    schema: current,
    bus: (options = {}) =>
      createPostgresBus({ connectionString: current().url, schema: current().name, ...options }),
  };
}
