// The browser bundle of the core client (event-stream parser included), built with esbuild: the one
// `npm run size` measures and the one the Chromium test loads into a real page.
import { build } from 'esbuild';

/** Bundles src/index.ts for browsers (ESM, minified) and returns its code. */
export async function bundleBrowserClient() {
  const result = await build({
    entryPoints: [new URL('../src/index.ts', import.meta.url).pathname],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    // events-core is imported for types only: if a runtime import ever slips in, fail loudly.
    external: ['@repopulse/events-core'],
    logLevel: 'silent',
  });
  const code = result.outputFiles[0].contents;
  if (new TextDecoder().decode(code).includes('@repopulse/events-core')) {
    throw new Error('the client bundle imports @repopulse/events-core at runtime (types only allowed)');
  }
  return code;
}
