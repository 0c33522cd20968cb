// Size budget of the browser bundle of the core client (event-stream parser included):
// esbuild bundle, minified, gzipped; the budget is 4 kB = 4000 bytes. Prints the figure; exits 1 when over budget.
// Usage: node scripts/size.mjs [--json]
import { gzipSync } from 'node:zlib';
import { bundleBrowserClient } from './browser-bundle.mjs';

export const BUDGET_BYTES = 4000;

/** Measures the browser bundle: its minified and gzipped sizes in bytes. */
export async function measureSize() {
  const code = await bundleBrowserClient();
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
