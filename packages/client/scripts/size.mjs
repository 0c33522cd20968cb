// Size budget of the browser bundle of the core client (eventsource-parser included):
// esbuild bundle, minified, gzipped; the budget is 4 kB = 4000 bytes. Prints the figure; exits 1 when over budget.
// Usage: node scripts/size.mjs [--json]
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export const BUDGET_BYTES = 4000;

/** Bundles src/index.ts for browsers and returns its minified and gzipped sizes in bytes. */
export async function measureSize() {
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
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { minified, gzipped } = await measureSize();
  const ok = gzipped <= BUDGET_BYTES;
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ minified, gzipped, budget: BUDGET_BYTES }));
  else {
    console.log(
      `@repopulse/client browser bundle: ${minified} B minified, ${gzipped} B min+gzip ` +
        `(budget ${BUDGET_BYTES} B) ${ok ? 'OK' : 'OVER BUDGET'}`,
    );
  }
  process.exit(ok ? 0 : 1);
}
