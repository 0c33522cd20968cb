// Size budgets of the browser bundles (esbuild, minified, gzipped; eventsource-parser included):
// - core: the `@repopulse/client` stream API (createLiveResource left out), at most 4 kB = 4000 B;
// - live: all of `@repopulse/client`, createLiveResource included (reported, no budget of its own);
// - share: `@repopulse/client/share` (core included), at most 1500 B more than core;
// - react: `@repopulse/client/react` hooks with React external (core and createLiveResource
//   included; tab sharing is loaded on demand, so left out), at most 1200 B more than core.
// Prints the figures; exits 1 when one is over budget. Usage: node scripts/size.mjs [--json]
import { gzipSync } from 'node:zlib';
import { bundleBrowserClient } from './browser-bundle.mjs';

export const BUDGET_BYTES = 4000;
/** Budgets of the other entries, in bytes on top of the core bundle. */
export const EXTRA_BUDGETS = { share: 1500, react: 1200 };

const measure = async (entry, leaveOut) => {
  const code = await bundleBrowserClient(entry, leaveOut);
  return { minified: code.length, gzipped: gzipSync(code, { level: 9 }).length };
};

/** Measures every bundle: minified and gzipped bytes, and the gzipped bytes over core. */
export async function measureSize() {
  // Tab sharing is a dynamic import of createLiveResource (`share: true`): a chunk of its own.
  const onDemand = { external: ['/share/shared-stream'] };
  const core = await measure('index', { without: ['./live-resource', './share/types'] });
  const entries = {
    live: await measure('index', onDemand),
    share: await measure('share'),
    react: await measure('react', onDemand),
  };
  for (const size of Object.values(entries)) size.extra = size.gzipped - core.gzipped;
  return { ...core, entries };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { minified, gzipped, entries } = await measureSize();
  const over = Object.entries(EXTRA_BUDGETS).filter(([name, budget]) => entries[name].extra > budget);
  const ok = gzipped <= BUDGET_BYTES && over.length === 0;
  if (process.argv.includes('--json'))
    console.log(
      JSON.stringify({ minified, gzipped, budget: BUDGET_BYTES, entries, extraBudgets: EXTRA_BUDGETS }),
    );
  else {
    console.log(
      `@repopulse/client browser bundle: ${minified} B minified, ${gzipped} B min+gzip ` +
        `(budget ${BUDGET_BYTES} B) ${gzipped <= BUDGET_BYTES ? 'OK' : 'OVER BUDGET'}`,
    );
    for (const [name, size] of Object.entries(entries)) {
      const budget = EXTRA_BUDGETS[name];
      console.log(
        `  + ${name}: ${size.gzipped} B min+gzip, ${size.extra} B over core` +
          (budget ? ` (budget ${budget} B) ${size.extra <= budget ? 'OK' : 'OVER BUDGET'}` : ' (no budget)'),
      );
    }
  }
  process.exit(ok ? 0 : 1);
}
