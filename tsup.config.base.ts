import type { Options } from 'tsup';

/**
 * The one tsup configuration every package builds with: ESM (`.mjs` + `.d.mts`) and
 * CJS (`.cjs` + `.d.cts`) side by side, so `publint --strict` and `attw --pack` are clean.
 * Each package's `tsup.config.ts` passes only its entry points.
 */
export function packageConfig(entry: Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    outExtension: ({ format }) =>
      format === 'esm' ? { js: '.mjs', dts: '.d.mts' } : { js: '.cjs', dts: '.d.cts' },
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    treeshake: true,
    ...overrides,
  };
}
