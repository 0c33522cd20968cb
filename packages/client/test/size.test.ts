// The size budgets, enforced in CI through the same script `npm run size` runs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

interface EntrySize {
  minified: number;
  gzipped: number;
  extra: number;
}

interface SizeReport {
  gzipped: number;
  minified: number;
  budget: number;
  inputs: string[];
  eventsCoreModules: string[];
  eventsCoreBytes: number;
  entries: Record<'live' | 'share' | 'react', EntrySize>;
  extraBudgets: Record<'share' | 'react', number>;
}

function measure(): SizeReport {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  try {
    return JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' }));
  } catch (error) {
    // exit code 1: over budget (or events-core got in); show the figure it printed
    throw new Error(`size check failed: ${(error as { stdout?: string }).stdout ?? error}`);
  }
}

const report = measure();

it('the browser bundle (event-stream parser included) is at most 4 kB min+gzip', () => {
  const { gzipped, minified, budget } = report;
  console.log(`[client] bundle: ${minified} B minified, ${gzipped} B min+gzip (budget ${budget} B)`);
  expect(budget).toBe(4000);
  expect(gzipped).toBeLessThanOrEqual(budget);
  expect(gzipped).toBeGreaterThan(1000); // sanity: the bundle really holds the client
});

it('@repopulse/events-core, a regular dependency imported for types only, adds zero bytes', () => {
  // esbuild resolves it to its sources: a runtime import would list its modules here.
  expect(report.inputs).toContain('src/index.ts');
  expect(report.eventsCoreModules).toEqual([]);
  expect(report.eventsCoreBytes).toBe(0);
});

it.each([
  ['share', 1500],
  ['react', 1200],
] as const)('the %s entry is at most %i B min+gzip over the core bundle', (name, budget) => {
  const size = report.entries[name];
  console.log(`[client] ${name}: ${size.gzipped} B min+gzip, ${size.extra} B over core (budget ${budget} B)`);
  expect(report.extraBudgets[name]).toBe(budget);
  expect(size.extra).toBeLessThanOrEqual(budget);
  expect(size.extra).toBeGreaterThan(200); // sanity: the entry's own code is in it
});

it('createLiveResource is left out of the core figure and counted in the React entry', () => {
  expect(report.inputs).not.toContain('src/live-resource.ts');
  expect(report.entries.live.extra).toBeGreaterThan(200);
  expect(report.entries.react.extra).toBeGreaterThan(report.entries.live.extra);
});
