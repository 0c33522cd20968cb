// Size budget of the browser bundle of the core client (event-stream parser included):
// esbuild bundle, minified, gzipped; the budget is 4 kB = 4000 bytes. Prints the figure; exits 1 when over budget.
// Usage: node scripts/size.mjs [--json]
import { gzipSync } from 'node:zlib';
import { buildBrowserClient, isEventsCoreModule } from './browser-bundle.mjs';

export const BUDGET_BYTES = 4000;

/**
 * Measures the browser bundle: its minified and gzipped sizes in bytes, the modules in it, and
 * how many bytes @repopulse/events-core adds (the bundle built with it external, compared).
 */
export async function measureSize() {
  const { code, inputs } = await buildBrowserClient();
  const withoutCore = await buildBrowserClient({ externalCore: true });
  return {
    minified: code.length,
    gzipped: gzipSync(code, { level: 9 }).length,
    inputs,
    eventsCoreModules: inputs.filter(isEventsCoreModule),
    eventsCoreBytes: code.length - withoutCore.code.length,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = await measureSize();
  const ok = size.gzipped <= BUDGET_BYTES && size.eventsCoreModules.length === 0;
  if (process.argv.includes('--json')) console.log(JSON.stringify({ ...size, budget: BUDGET_BYTES }));
  else {
    console.log(
      `@repopulse/client browser bundle: ${size.minified} B minified, ${size.gzipped} B min+gzip ` +
        `(budget ${BUDGET_BYTES} B), @repopulse/events-core adds ${size.eventsCoreBytes} B ` +
        `(${size.eventsCoreModules.length} modules) ${ok ? 'OK' : 'OVER BUDGET'}`,
    );
  }
  process.exit(ok ? 0 : 1);
}
