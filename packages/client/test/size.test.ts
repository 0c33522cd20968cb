// The size budgets, enforced in CI through the same script `npm run size` runs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

interface Size {
  minified: number;
  gzipped: number;
  extra: number;
}

function measure() {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  let output: string;
  try {
    output = execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' });
  } catch (error) {
    // exit code 1: over budget; show the figures it printed
    throw new Error(`size check failed: ${(error as { stdout?: string }).stdout ?? error}`);
  }
  return JSON.parse(output) as Size & {
    budget: number;
    entries: Record<'live' | 'share' | 'react', Size>;
    extraBudgets: Record<'share' | 'react', number>;
  };
}

const sizes = measure();

it('the core browser bundle (eventsource-parser included) is at most 4 kB min+gzip', () => {
  const { gzipped, minified, budget } = sizes;
  console.log(`[client] bundle: ${minified} B minified, ${gzipped} B min+gzip (budget ${budget} B)`);
  expect(budget).toBe(4000);
  expect(gzipped).toBeLessThanOrEqual(budget);
  expect(gzipped).toBeGreaterThan(1000); // sanity: eventsource-parser alone is over 1 kB
});

it.each([
  ['share', 1500],
  ['react', 1200],
] as const)('the %s entry is at most %i B min+gzip over the core bundle', (name, budget) => {
  const size = sizes.entries[name];
  console.log(`[client] ${name}: ${size.gzipped} B min+gzip, ${size.extra} B over core (budget ${budget} B)`);
  expect(sizes.extraBudgets[name]).toBe(budget);
  expect(size.extra).toBeLessThanOrEqual(budget);
  expect(size.extra).toBeGreaterThan(200); // sanity: the entry's own code is in it
});

it('createLiveResource is left out of the core figure and counted in the React entry', () => {
  expect(sizes.entries.live.extra).toBeGreaterThan(200);
  expect(sizes.entries.react.extra).toBeGreaterThan(sizes.entries.live.extra);
});
