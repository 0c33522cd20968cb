import { createTestSchema, postgresMissing, requirement, type TestSchema } from '@repopulse/test-support';
import { afterAll, beforeAll, describe } from 'vitest';
import { createPostgresBus, type PostgresBus, type PostgresBusOptions } from '../src/index';

const missing = await postgresMissing();
const mode = requirement('bus-postgres', missing, 'the Postgres bus tests');

/** `describe` when the shared test Postgres answers, else a loud skip (a failure under CI=true). */
export const describeWithPostgres = mode === 'run' ? describe : describe.skip;

/**
 * A fresh schema on the shared test Postgres for the suite, dropped after it, and a factory of buses
 * on it (each bus closed by the caller).
 */
export function useBusSchema(prefix: string): {
  schema: () => TestSchema;
  bus: (options?: Omit<PostgresBusOptions, 'pool' | 'connectionString' | 'schema'>) => PostgresBus;
} {
  let schema: TestSchema | undefined;
  beforeAll(async () => {
    schema = await createTestSchema(prefix);
  });
  afterAll(async () => {
    await schema?.drop();
  });
  return {
    schema: () => schema as TestSchema,
    bus: (options = {}) =>
      createPostgresBus({
        connectionString: (schema as TestSchema).url,
        schema: (schema as TestSchema).name,
        ...options,
      }),
  };
}
