// The browser bundles of the client, built with esbuild: the per-import builds `npm run size`
// measures, and the whole-entry bundles the Chromium tests load into real pages.
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** True for a bundled module path that belongs to @repopulse/events-core (its sources or dist). */
export const isEventsCoreModule = (path) => /(^|\/)(events-core|@repopulse\/events-core)\//.test(path);

/** True for a module of events-core's wire module (`@repopulse/events-core/wire`). */
export const isWireModule = (path) => isEventsCoreModule(path) && /\/wire\//.test(path);

/** Entry points by name: the client, tab sharing, the React hooks. */
export const ENTRIES = { index: 'src/index.ts', share: 'src/share.ts', react: 'src/react.tsx' };

const packageDir = new URL('..', import.meta.url).pathname;

const common = {
  absWorkingDir: packageDir, // inputs are listed relative to the package
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  metafile: true,
  conditions: ['@repopulse/source'], // sibling packages resolve to their sources
  external: ['react'],
  logLevel: 'silent',
};

/** Bundles one whole entry for browsers (ESM, minified, React external, one file) and returns its code. */
export async function bundleBrowserClient(entry = 'index') {
  const result = await build({ ...common, entryPoints: [ENTRIES[entry]] });
  return result.outputFiles[0].contents;
}

const gzip = (code) => gzipSync(code, { level: 9 }).length;

/**
 * What an app pays for `import { names } from entry`, tree-shaken and code-split as a bundler does:
 * the gzipped bytes of the chunks loaded with the app (the entry chunk and what it imports
 * statically, each gzipped on its own, as served), and apart from them the chunks loaded on demand
 * (dynamic `import()`). Also lists the bytes each events-core module adds to the loaded chunks.
 */
export async function measureImport(entry, names) {
  const source = `export { ${names.join(', ')} } from ${JSON.stringify(`./${ENTRIES[entry]}`)};`;
  const result = await build({
    ...common,
    stdin: { contents: source, resolveDir: packageDir, loader: 'ts' },
    splitting: true,
    outdir: 'out',
  });
  const outputs = result.metafile.outputs;
  const files = new Map(result.outputFiles.map((file) => [file.path.slice(packageDir.length), file]));
  const entryFile = Object.keys(outputs).find((path) => outputs[path].entryPoint);
  const loaded = new Set();
  const visit = (path) => {
    if (loaded.has(path)) return;
    loaded.add(path);
    for (const { path: next, kind } of outputs[path].imports)
      if (kind === 'import-statement' && outputs[next]) visit(next);
  };
  visit(entryFile);
  const size = (paths) =>
    paths.reduce(
      (sum, path) => {
        const code = files.get(path).contents;
        return { minified: sum.minified + code.length, gzipped: sum.gzipped + gzip(code) };
      },
      { minified: 0, gzipped: 0 },
    );
  const onDemand = Object.keys(outputs).filter((path) => !loaded.has(path) && path.endsWith('.js'));
  const eventsCore = {};
  for (const path of loaded)
    for (const [input, { bytesInOutput }] of Object.entries(outputs[path].inputs))
      if (isEventsCoreModule(input) && bytesInOutput > 0) eventsCore[input] = bytesInOutput;
  return { ...size([...loaded]), onDemand: size(onDemand).gzipped, eventsCore };
}
