import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// Both entries share one copy of every module (CJS too), so an error class thrown through
// `bus-kit` is the same class users import from the root.
export default defineConfig(
  packageConfig(
    { index: 'src/index.ts', 'bus-kit': 'src/bus-kit/index.ts', otel: 'src/otel/index.ts' },
    { splitting: true },
  ),
);
