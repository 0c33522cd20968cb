// The browser bundle of the core client (event-stream parser included), built with esbuild: the one
// `npm run size` measures and the one the Chromium test loads into a real page.
import { build } from 'esbuild';

/** True for a bundled module path that belongs to @repopulse/events-core (its sources or dist). */
export const isEventsCoreModule = (path) => /(^|\/)(events-core|@repopulse\/events-core)\//.test(path);

/**
 * Bundles src/index.ts for browsers (ESM, minified) with esbuild; returns the code and the paths
 * of every module in it (the metafile's inputs). `@repopulse/events-core` resolves to its sources,
 * so a runtime import of it would show up as inputs; with `externalCore` it is left out instead.
 */
export async function buildBrowserClient({ externalCore = false } = {}) {
  const result = await build({
    absWorkingDir: new URL('..', import.meta.url).pathname, // inputs are listed relative to the package
    entryPoints: ['src/index.ts'],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    conditions: ['@repopulse/source'],
    external: externalCore ? ['@repopulse/events-core'] : [],
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0].contents, inputs: Object.keys(result.metafile.inputs) };
}

/** Bundles src/index.ts for browsers (ESM, minified) and returns its code; throws if events-core got in. */
export async function bundleBrowserClient() {
  const { code, inputs } = await buildBrowserClient();
  const core = inputs.filter(isEventsCoreModule);
  if (core.length) {
    throw new Error(
      `the client bundle includes @repopulse/events-core (types only allowed): ${core.join(', ')}`,
    );
  }
  return code;
}
