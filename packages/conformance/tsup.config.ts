import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// `bin` is the executable (its `#!` line is kept); `index` is the programmatic `runConformance`.
export default defineConfig(
  packageConfig({ index: 'src/index.ts', bin: 'src/bin.ts' }, { platform: 'node' }),
);
