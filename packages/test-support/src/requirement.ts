/** True when the run is under `CI=true`, where a missing test dependency must fail, not skip. */
export function isCI(): boolean {
  return process.env.CI === 'true';
}

/**
 * Decides what a test does about a dependency (a binary, a server) it needs.
 *
 * - `missing` undefined: the dependency is there → `'run'`.
 * - Missing locally: prints a loud warning naming what is skipped → `'skip'`.
 * - Missing under `CI=true`: throws, so the run fails instead of hiding tests.
 *
 * @param owner Who needs it, shown in brackets, e.g. `'client'`.
 * @param missing Why the dependency is unavailable, e.g. `'chromium not found'`; undefined when it is there.
 * @param skipping What is skipped locally, e.g. `'the real-browser test'`.
 * @example
 * const mode = requirement('client', path ? undefined : 'chromium not found', 'the browser test');
 * describe.skipIf(mode === 'skip')('in Chromium', () => {});
 */
export function requirement(owner: string, missing: string | undefined, skipping: string): 'run' | 'skip' {
  if (missing === undefined) return 'run';
  if (isCI()) throw new Error(`[${owner}] ${missing}: required under CI=true, so this run fails`);
  console.warn(`\n\n!!! [${owner}] ${missing}: SKIPPING ${skipping} (it runs under CI=true) !!!\n\n`);
  return 'skip';
}
