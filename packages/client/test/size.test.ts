// The size budget, enforced in CI through the same script `npm run size` runs.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('the browser bundle (event-stream parser included) is at most 4 kB min+gzip', () => {
  const script = fileURLToPath(new URL('../scripts/size.mjs', import.meta.url));
  let output: string;
  try {
    output = execFileSync(process.execPath, [script, '--json'], { encoding: 'utf8' });
  } catch (error) {
    // exit code 1: over budget; show the figure it printed
    throw new Error(`size check failed: ${(error as { stdout?: string }).stdout ?? error}`);
  }
  const { gzipped, minified, budget } = JSON.parse(output) as {
    gzipped: number;
    minified: number;
    budget: number;
  };
  console.log(`[client] bundle: ${minified} B minified, ${gzipped} B min+gzip (budget ${budget} B)`);
  expect(budget).toBe(4000);
  expect(gzipped).toBeLessThanOrEqual(budget);
  expect(gzipped).toBeGreaterThan(1000); // sanity: the bundle really holds the client
});
