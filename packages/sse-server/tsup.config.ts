import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.config.base';

// The entries share one copy of every module (CJS too): one topic hub registry per process
// whichever adapters serve a bus, and one `StreamHttpError` class.
export default defineConfig(
  packageConfig(
    {
      index: 'src/index.ts',
      node: 'src/node/index.ts',
      fetch: 'src/fetch/index.ts',
      fastify: 'src/fastify/index.ts',
    },
    { splitting: true },
  ),
);
