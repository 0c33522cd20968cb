// Size budgets of the browser bundles (esbuild, minified, gzipped; event-stream parser included):
// - core: the `@repopulse/client` stream API (createLiveResource left out), at most 4 kB = 4000 B;
// - live: all of `@repopulse/client`, createLiveResource included (reported, no budget of its own);
// - share: `@repopulse/client/share` (core included), at most 1500 B more than core;
// - react: `@repopulse/client/react` hooks with React external (core and createLiveResource
//   included; tab sharing is loaded on demand, so left out), at most 1200 B more than core.
// @repopulse/events-core is imported for types only: it must add zero bytes to any of them.
// Prints the figures; exits 1 when one is over budget. Usage: node scripts/size.mjs [--json]
import { gzipSync } from 'node:zlib';
import { buildBrowserClient, isEventsCoreModule } from './browser-bundle.mjs';

export const BUDGET_BYTES = 4000;
/** Budgets of the other entries, in bytes on top of the core bundle. */
export const EXTRA_BUDGETS = { share: 1500, react: 1200 };

const gzip = (code) => gzipSync(code, { level: 9 }).length;

/**
 * Measures the bundles: minified and gzipped sizes in bytes (and, for the entries, the gzipped
 * bytes over core), the modules of the core bundle, and how many bytes @repopulse/events-core
 * adds (each bundle built with it external, compared).
 */
export async function measureSize() {
  const eventsCoreModules = [];
  let eventsCoreBytes = 0;
  const measure = async (options) => {
    const { code, inputs } = await buildBrowserClient(options);
    const withoutCore = await buildBrowserClient({ ...options, externalCore: true });
    eventsCoreModules.push(...inputs.filter(isEventsCoreModule));
    eventsCoreBytes += code.length - withoutCore.code.length;
    return { minified: code.length, gzipped: gzip(code), inputs };
  };
  // Tab sharing is a dynamic import of createLiveResource (`share: true`): a chunk of its own.
  const onDemand = ['/share/shared-stream'];
  const core = await measure({ without: ['./live-resource', './share/types'] });
  const entries = {};
  for (const [name, options] of Object.entries({
    live: { external: onDemand },
    share: { entry: 'share' },
    react: { entry: 'react', external: onDemand },
  })) {
    const { minified, gzipped } = await measure(options);
    entries[name] = { minified, gzipped, extra: gzipped - core.gzipped };
  }
  return { ...core, entries, eventsCoreModules, eventsCoreBytes };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const size = await measureSize();
  const over = Object.entries(EXTRA_BUDGETS).filter(([name, budget]) => size.entries[name].extra > budget);
  const ok = size.gzipped <= BUDGET_BYTES && over.length === 0 && size.eventsCoreModules.length === 0;
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ ...size, budget: BUDGET_BYTES, extraBudgets: EXTRA_BUDGETS }));
  else {
    console.log(
      `@repopulse/client browser bundle: ${size.minified} B minified, ${size.gzipped} B min+gzip ` +
        `(budget ${BUDGET_BYTES} B) ${size.gzipped <= BUDGET_BYTES ? 'OK' : 'OVER BUDGET'}`,
    );
    for (const [name, entry] of Object.entries(size.entries)) {
      const budget = EXTRA_BUDGETS[name];
      console.log(
        `  + ${name}: ${entry.gzipped} B min+gzip, ${entry.extra} B over core` +
          (budget ? ` (budget ${budget} B) ${entry.extra <= budget ? 'OK' : 'OVER BUDGET'}` : ' (no budget)'),
      );
    }
    console.log(
      `  @repopulse/events-core adds ${size.eventsCoreBytes} B (${size.eventsCoreModules.length} modules)`,
    );
  }
  process.exit(ok ? 0 : 1);
}
