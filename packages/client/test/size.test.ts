// The size budgets, enforced in CI through the same script `npm run size` runs: what an app pays
// for each import, tree-shaken as a bundler does.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

interface ImportSize {
  minified: number;
  gzipped: number;
  budget: number;
  extra: number;
  extraBudget: number;
  eventsCore: Record<string, number>;
}

interface SizeReport {
  imports: Record<'createEventStream' | 'createLiveResource' | 'share' | 'react', ImportSize>;
  outsideWire: string[];
}

function measure(): SizeReport {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  try {
    return JSON.parse(execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' }));
  } catch (error) {
    // exit code 1: over budget (or events-core outside ./wire got in); show the figure it printed
    throw new Error(`size check failed: ${(error as { stdout?: string }).stdout ?? error}`);
  }
}

const report = measure();
const { createEventStream, createLiveResource } = report.imports;

it('createEventStream (event-stream parser included) is at most 4 kB min+gzip', () => {
  const { gzipped, minified, budget } = createEventStream;
  console.log(
    `[client] createEventStream: ${minified} B minified, ${gzipped} B min+gzip (budget ${budget} B)`,
  );
  expect(budget).toBe(4000);
  expect(gzipped).toBeLessThanOrEqual(budget);
  expect(gzipped).toBeGreaterThan(1000); // sanity: the bundle really holds the client
});

it('createLiveResource without tab sharing is at most 700 B over createEventStream', () => {
  console.log(`[client] createLiveResource: ${createLiveResource.gzipped} B, +${createLiveResource.extra} B`);
  expect(createLiveResource.extraBudget).toBe(700);
  expect(createLiveResource.extra).toBeLessThanOrEqual(700);
  expect(createLiveResource.extra).toBeGreaterThan(200); // sanity: its own code is in it
});

it.each([
  ['share', 2100],
  ['react', 1200],
] as const)('the %s entry is at most %i B min+gzip over createEventStream', (name, budget) => {
  const size = report.imports[name];
  console.log(`[client] ${name}: ${size.gzipped} B min+gzip, ${size.extra} B over (budget ${budget} B)`);
  expect(size.extraBudget).toBe(budget);
  expect(size.extra).toBeLessThanOrEqual(budget);
  expect(size.extra).toBeGreaterThan(200); // sanity: the entry's own code is in it
});

it('@repopulse/events-core adds only its wire module (the rest is imported for types only)', () => {
  expect(report.outsideWire).toEqual([]);
  const wire = Object.keys(createEventStream.eventsCore);
  expect(wire.length).toBeGreaterThan(0);
  for (const path of wire) expect(path).toMatch(/events-core\/src\/wire\//);
  // The tab-sharing code is not in createLiveResource unless the app imports it.
  expect(Object.keys(createLiveResource.eventsCore).join()).not.toContain('sse-frame');
});
