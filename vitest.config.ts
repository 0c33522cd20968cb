import { defaultClientConditions, defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// Workspace packages resolve to each other's `src` through the `@repopulse/source`
// export condition, so tests never need a prior build.
const source = '@repopulse/source';

export default defineConfig({
  resolve: { conditions: [source, ...defaultClientConditions] },
  // Server-side, resolve as Node does: without the bundler-only `module` condition, which some
  // packages (OpenTelemetry's) point at builds Node cannot load (extensionless imports).
  ssr: { resolve: { conditions: [source, ...defaultServerConditions.filter((c) => c !== 'module')] } },
  test: {
    include: [
      'packages/*/test/**/*.test.{ts,tsx}',
      'examples/*/test/**/*.test.{ts,tsx}',
      'bench/test/**/*.test.ts',
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});
