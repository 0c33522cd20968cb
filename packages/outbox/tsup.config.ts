import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// The three entries share one copy of every module (CJS too), so `OutboxError` thrown by a store is
// the class users import from the root.
export default defineConfig(
  packageConfig(
    { index: 'src/index.ts', sqlite: 'src/sqlite/index.ts', postgres: 'src/postgres/index.ts' },
    { splitting: true },
  ),
);
