// Writes the SQL the package ships for teams that run migrations themselves (`sql/schema.sql`,
// exported as `@repopulse/bus-postgres/schema.sql`) from `postgresBusSchemaSql()`, its one source,
// read from `src/` (through tsx: no build of events-core needed). `npm run build` runs it; the test
// runs it into a file of its own.
// Usage: node scripts/write-schema-sql.mjs [output file, default sql/schema.sql]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tsImport } from 'tsx/esm/api';

const { postgresBusSchemaSql } = await tsImport('../src/schema-sql.ts', import.meta.url);
const output = process.argv[2] ?? fileURLToPath(new URL('../sql/schema.sql', import.meta.url));
mkdirSync(dirname(output), { recursive: true });
writeFileSync(output, postgresBusSchemaSql());
