import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// The entries share one copy of every module (CJS too), so an error class thrown through
// `bus-kit`, `otel` or `wire` is the same class users import from the root.
export default defineConfig(
  packageConfig(
    {
      index: 'src/index.ts',
      'bus-kit': 'src/bus-kit/index.ts',
      otel: 'src/otel/index.ts',
      wire: 'src/wire/index.ts',
    },
    { splitting: true },
  ),
);
