// The browser bundles of the client (event-stream parser included), built with esbuild: the ones
// `npm run size` measures and the ones the Chromium tests load into real pages.
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

/** True for a bundled module path that belongs to @repopulse/events-core (its sources or dist). */
export const isEventsCoreModule = (path) => /(^|\/)(events-core|@repopulse\/events-core)\//.test(path);

/** Entry points by name: the client, tab sharing, the React hooks. */
export const ENTRIES = { index: 'src/index.ts', share: 'src/share.ts', react: 'src/react.tsx' };

/**
 * Bundles one entry for browsers (ESM, minified, React external) with esbuild; returns the code
 * and the paths of every module in it (the metafile's inputs). `@repopulse/events-core` resolves
 * to its sources, so a runtime import of it would show up as inputs; with `externalCore` it is
 * left out instead. For measuring, `without` drops the entry's re-exports from those modules
 * (e.g. `./live-resource`), and `external` keeps modules (by path suffix, e.g. a dynamic import's
 * target) out of the bundle as imports.
 */
export async function buildBrowserClient({
  entry = 'index',
  externalCore = false,
  without = [],
  external = [],
} = {}) {
  const entryPath = new URL(`../${ENTRIES[entry]}`, import.meta.url).pathname;
  const result = await build({
    absWorkingDir: new URL('..', import.meta.url).pathname, // inputs are listed relative to the package
    entryPoints: [ENTRIES[entry]],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    conditions: ['@repopulse/source'],
    external: externalCore ? ['@repopulse/events-core', 'react'] : ['react'],
    plugins: [
      {
        name: 'measure',
        setup(b) {
          b.onResolve({ filter: /.*/ }, ({ path }) =>
            external.some((suffix) => path.endsWith(suffix)) ? { path, external: true } : undefined,
          );
          if (without.length === 0) return;
          b.onLoad({ filter: /\.tsx?$/ }, async ({ path }) => {
            if (path !== entryPath) return undefined;
            let contents = await readFile(path, 'utf8');
            for (const spec of without) {
              const before = contents;
              contents = contents.replace(new RegExp(`export [^;]*? from '${spec}';`, 'gs'), '');
              if (contents === before) throw new Error(`${ENTRIES[entry]} re-exports nothing from ${spec}`);
            }
            return {
              contents,
              loader: path.endsWith('x') ? 'tsx' : 'ts',
              resolveDir: new URL('.', `file://${path}`).pathname,
            };
          });
        },
      },
    ],
    logLevel: 'silent',
  });
  return { code: result.outputFiles[0].contents, inputs: Object.keys(result.metafile.inputs) };
}

/** Bundles one entry for browsers (ESM, minified) and returns its code; throws if events-core got in. */
export async function bundleBrowserClient(entry = 'index') {
  const { code, inputs } = await buildBrowserClient({ entry });
  const core = inputs.filter(isEventsCoreModule);
  if (core.length) {
    throw new Error(
      `the client bundle includes @repopulse/events-core (types only allowed): ${core.join(', ')}`,
    );
  }
  return code;
}
