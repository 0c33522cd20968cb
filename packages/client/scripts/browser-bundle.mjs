// The browser bundles of the client (eventsource-parser included), built with esbuild: the ones
// `npm run size` measures and the ones the Chromium tests load into real pages.
import { readFile } from 'node:fs/promises';
import { build } from 'esbuild';

/** Entry points by name: the client, tab sharing, the React hooks. */
export const ENTRIES = { index: 'src/index.ts', share: 'src/share.ts', react: 'src/react.tsx' };

/**
 * Bundles one entry for browsers (ESM, minified) and returns its code. For measuring, `without`
 * drops the entry's re-exports from those modules (e.g. `./live-resource`), and `external` keeps
 * modules (by path suffix, e.g. a dynamic import's target) out of the bundle as imports.
 */
export async function bundleBrowserClient(entry = 'index', { without = [], external = [] } = {}) {
  const entryPath = new URL(`../${ENTRIES[entry]}`, import.meta.url).pathname;
  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    // events-core is imported for types only: if a runtime import ever slips in, fail loudly.
    external: ['@repopulse/events-core', 'react'],
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
  const code = result.outputFiles[0].contents;
  if (new TextDecoder().decode(code).includes('@repopulse/events-core')) {
    throw new Error('the client bundle imports @repopulse/events-core at runtime (types only allowed)');
  }
  return code;
}
